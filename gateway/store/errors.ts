/** Why the database could not be used; main maps every one of these to EXIT_CONFIG. */
export class StoreOpenError extends Error {
  constructor(
    message: string,
    readonly code: 'not_a_database' | 'corrupt' | 'newer_schema' | 'cannot_open',
  ) {
    super(message);
    this.name = 'StoreOpenError';
  }
}
