/**
 * Runs `work` one at a time: a call while a run is in flight asks for one more run after it, however
 * many calls came meanwhile. Album counts each run a search per album; while a library indexes,
 * 'albums.changed' may come faster than the counts answer, and the requests must not pile up in
 * the encoder's queue ahead of the photos being indexed.
 */
export function oneAtATime(work: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await work();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}
