import { FormParams, ParamReader } from './form-params.reader';
import { RequestOrigin, StripeState } from './stripe-local.state';
import { CaptureMethod } from './stripe.objects';
import { invalidParam, missingPaymentMethod } from './stripe.errors';
import { CardOutcome, outcomeOfCard, outcomeOfPaymentMethod } from './test-cards.catalog';

export interface ApiCall {
  params: FormParams;
  /** The `:id` of the path, when the route has one. */
  id: string;
  origin: RequestOrigin;
}

export interface ApiRoute {
  method: 'GET' | 'POST';
  path: RegExp;
  handle(call: ApiCall): unknown;
}

/** Stripe's balance object; stripe-local keeps no ledger, so it is always empty. */
const BALANCE = {
  object: 'balance',
  available: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
  pending: [{ amount: 0, currency: 'usd', source_types: { card: 0 } }],
  livemode: false,
} as const;

const CAPTURE_METHODS: readonly CaptureMethod[] = ['automatic', 'automatic_async', 'manual'];
const CARD_PARAMS = ['payment_method', 'payment_method_data', 'return_url'] as const;

/** A subset of Stripe's v1 API, enough for the payment app; answers are Stripe-shaped objects. */
export function stripeApiRoutes(state: StripeState): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: /^\/v1\/payment_intents$/,
      handle: ({ params, origin }) => {
        const read = new ParamReader(params, [
          'amount',
          'currency',
          'metadata',
          'automatic_payment_methods',
          'capture_method',
          'description',
          'confirm',
          ...CARD_PARAMS,
        ]);
        const input = {
          amount: read.requiredPositiveInteger('amount'),
          currency: currencyOf(read.requiredString('currency')),
          metadata: read.metadata(),
          captureMethod: read.oneOf('capture_method', CAPTURE_METHODS) ?? 'automatic',
          automaticPaymentMethods: read
            .hash('automatic_payment_methods', ['enabled', 'allow_redirects'])
            ?.boolean('enabled'),
          description: read.string('description'),
        };
        const confirm = read.boolean('confirm') === true;
        const card = cardOf(read);
        if (card && !confirm)
          throw invalidParam(
            'parameter_unsupported',
            'stripe-local attaches a payment method only with confirm=true',
            'payment_method',
          );
        // Everything is checked before the intent exists: bad input changes nothing.
        if (confirm && !card) throw missingPaymentMethod();
        const intent = state.createPaymentIntent(input);
        return confirm ? state.confirmPaymentIntent(intent.id, card, origin) : intent;
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/payment_intents\/([^/]+)$/,
      handle: ({ params, id }) => {
        ParamReader.refuseAny(params);
        return state.paymentIntent(id);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
      handle: ({ params, id, origin }) => {
        const card = cardOf(new ParamReader(params, CARD_PARAMS));
        return state.confirmPaymentIntent(id, card, origin);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/payment_intents\/([^/]+)\/capture$/,
      handle: ({ params, id, origin }) => {
        const read = new ParamReader(params, ['amount_to_capture']);
        return state.capturePaymentIntent(id, read.positiveInteger('amount_to_capture'), origin);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
      handle: ({ params, id, origin }) => {
        const read = new ParamReader(params, ['cancellation_reason']);
        const reason = read.oneOf('cancellation_reason', [
          'duplicate',
          'fraudulent',
          'requested_by_customer',
          'abandoned',
        ]);
        return state.cancelPaymentIntent(id, reason, origin);
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/refunds$/,
      handle: ({ params, origin }) => {
        const read = new ParamReader(params, [
          'payment_intent',
          'charge',
          'amount',
          'reason',
          'metadata',
        ]);
        return state.createRefund(
          {
            paymentIntent: read.string('payment_intent'),
            charge: read.string('charge'),
            amount: read.positiveInteger('amount'),
            reason: read.oneOf('reason', ['duplicate', 'fraudulent', 'requested_by_customer']),
            metadata: read.metadata(),
          },
          origin,
        );
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/refunds\/([^/]+)$/,
      handle: ({ params, id }) => {
        ParamReader.refuseAny(params);
        return state.refund(id);
      },
    },
    {
      // The cheapest call there is: what a client probes Stripe with after an outage.
      method: 'GET',
      path: /^\/v1\/balance$/,
      handle: ({ params }) => {
        ParamReader.refuseAny(params);
        return BALANCE;
      },
    },
  ];
}

/** The card a storefront confirms with: a test PaymentMethod id or raw test card data. */
function cardOf(read: ParamReader): CardOutcome | undefined {
  const paymentMethod = read.string('payment_method');
  if (paymentMethod) return outcomeOfPaymentMethod(paymentMethod);
  const data = read.hash('payment_method_data', ['type', 'card', 'billing_details']);
  if (!data) return undefined;
  if (data.requiredString('type') !== 'card')
    throw invalidParam(
      'parameter_invalid_string',
      'stripe-local only knows payment_method_data[type]=card',
      'payment_method_data[type]',
    );
  const card = data.hash('card', ['number', 'exp_month', 'exp_year', 'cvc']);
  if (!card)
    throw invalidParam(
      'parameter_missing',
      'Missing required param: payment_method_data[card].',
      'payment_method_data[card]',
    );
  return outcomeOfCard(card.requiredString('number'), 'payment_method_data[card][number]');
}

function currencyOf(value: string): string {
  if (!/^[a-z]{3}$/i.test(value))
    throw invalidParam('parameter_invalid_string', `Invalid currency: ${value}`, 'currency');
  return value.toLowerCase();
}
