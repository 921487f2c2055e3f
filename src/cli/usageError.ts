/** A mistake in the command line: reported with exit code 2 and no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
