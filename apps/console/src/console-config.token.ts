/** Nest's injection token of the console's ConsoleConfig. */
export const CONSOLE_CONFIG = Symbol('CONSOLE_CONFIG');
