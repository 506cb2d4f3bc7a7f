/** An operation on streams or dead letters that cannot be done: the CLI exits 1, the console shows it. */
export class OperationError extends Error {
  override readonly name: string = 'OperationError';
}

/** No dead letter at that DLQ sequence (never was, or replayed or purged since). */
export class DeadLetterNotFoundError extends OperationError {
  override readonly name = 'DeadLetterNotFoundError';
  constructor(readonly seq: number) {
    super(`no dead letter at DLQ sequence ${seq}`);
  }
}
