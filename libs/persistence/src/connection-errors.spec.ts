import { QueryFailedError } from 'typeorm';
import { isConnectionError, isTransactionConflict, retryingConflicts } from './connection-errors';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isConnectionError', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset socket', withCode('ECONNRESET')],
    ['a connection pg saw end', new Error('Connection terminated unexpectedly')],
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['Postgres shutting down (57P01)', withCode('57P01', 'terminating connection')],
    ['Postgres starting up (57P03)', withCode('57P03', 'the database system is starting up')],
    ['a connection exception (class 08)', withCode('08006')],
    [
      'a query TypeORM wrapped',
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    ],
  ])('recognises %s', (_case, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value')],
    ['a serialization failure', withCode('40001')],
    ['a statement timeout', withCode('57014', 'canceling statement due to statement timeout')],
    ['a plain error', new Error('always broken')],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_case, error) => {
    expect(isConnectionError(error)).toBe(false);
  });
});

describe('isTransactionConflict', () => {
  it.each([
    ['a deadlock (40P01)', withCode('40P01', 'deadlock detected')],
    ['a serialization failure (40001)', withCode('40001')],
    [
      'a deadlock TypeORM wrapped',
      new QueryFailedError('SELECT 1', [], withCode('40P01', 'deadlock detected')),
    ],
  ])('recognises %s', (_case, error) => {
    expect(isTransactionConflict(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505', 'duplicate key value')],
    ['an outage', withCode('ECONNREFUSED')],
    ['a lock timeout (55P03)', withCode('55P03')],
    ['nothing', undefined],
  ])('does not take %s for a conflict', (_case, error) => {
    expect(isTransactionConflict(error)).toBe(false);
  });
});

describe('retryingConflicts', () => {
  const deadlock = () => withCode('40P01', 'deadlock detected');

  it('runs the transaction again after a conflict, and answers what it answered', async () => {
    const transaction = jest
      .fn<Promise<string>, []>()
      .mockRejectedValueOnce(deadlock())
      .mockRejectedValueOnce(withCode('40001'))
      .mockResolvedValue('applied');
    await expect(retryingConflicts(transaction)).resolves.toBe('applied');
    expect(transaction).toHaveBeenCalledTimes(3);
  });

  it('throws the last conflict after the attempts it is given', async () => {
    const transaction = jest.fn<Promise<string>, []>().mockRejectedValue(deadlock());
    await expect(retryingConflicts(transaction, 2)).rejects.toMatchObject({ code: '40P01' });
    expect(transaction).toHaveBeenCalledTimes(2);
  });

  it('does not run again after any other error', async () => {
    const transaction = jest.fn<Promise<string>, []>().mockRejectedValue(withCode('23505'));
    await expect(retryingConflicts(transaction)).rejects.toMatchObject({ code: '23505' });
    expect(transaction).toHaveBeenCalledTimes(1);
  });
});
