/**
 * Scenarios of a cluster simulation build on each other (one cluster lives through them in order),
 * so once one fails the later ones fail at once, saying so, instead of waiting out their bounds on a
 * broken cluster.
 */

/** A `scenario(name, fn)` for one test file: like `it`, but skipped with a reason after a failure. */
export function scenarioSequence(): (name: string, fn: () => Promise<void> | void) => void {
  let broken = "";
  return (name, fn) => {
    it(name, async () => {
      if (broken) {
        throw new Error(`not run: scenario "${broken}" failed before it`);
      }
      try {
        await fn();
      } catch (e) {
        broken = name;
        throw e;
      }
    });
  };
}
