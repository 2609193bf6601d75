/** The error a synchronous call throws (the test fails if it throws none), for asserting on its fields. */
export function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
