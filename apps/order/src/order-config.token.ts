/** The validated OrderConfig, injected where a feature needs its settings. */
export const ORDER_CONFIG = Symbol('ORDER_CONFIG');
