/** The CLI's usage text and usage error: loaded by every command, so nothing heavy here. */
import { defaultDataDir } from './data-dir.ts';

export const LAB_USAGE = `Model lab
  lab variant <model> --fp16 | --int8 [--dynamic] | --int4 | --mixed --budget-mb N | --rank R | --energy E
  lab bench <model…> [--teacher ID] [--labelled FILE] [--queries FILE] [--iterations N] [--json]
  lab compare <teacher> <student> [--queries FILE] [--limit N] [--json]
  lab results [RUN-ID] [--csv | --json]
  lab init-student <teacher> --text-layers 0,4,8,11 [--id ID]`;

export const USAGE = `Usage: leanlens [--data <dir>] <command> [options]

Library
  folders add <path> [--ocr]    add a photo folder (then run: leanlens index); --ocr reads the text in its
                                photos (on by default for folders named like Screenshots or Scans)
  folders ocr <path> on|off     read text in a folder's photos (OCR), or stop
  folders remove <path>         forget a folder (your photos are never touched)
  folders list [--json]
  folders confirm <path>        remove photos held as missing (deleted on purpose) from the library
  folders restore <path>        scan a held folder again after putting its files back
  index [--watch] [--no-ocr] [--json]   bring the index up to date, then read text in photos (OCR)
                                unless --no-ocr; --watch keeps watching until Ctrl-C
  status [--json]
  demo [--json]                 add the bundled ShapesWorld demo library, switch to its trained model, index it
Search
  search <query> [--limit N] [--min-score S | --all] [--folder P] [--from DATE] [--to DATE] [--sort relevance|date]
         [--text-only] [--json]   the relevant photos (each query's own cut-off); --min-score: a fixed
                                cut-off; --all: every photo, ranked. Words in photos rank first
                                ("invoice 4471"); --text-only keeps only photos whose text matches.
                                The query language:
                                  red car -night · beach not people · cat:2 + sofa · "a red car"
                                  in:Holidays · 2023 · May 2024 · from:2023-06-01 to:2023-08-31
                                  before:2020 · after:2019-05 · type:png · camera:iPhone
  similar <path> [--limit N] [--json]   photos like a library photo or any image file
  duplicates [--similarity S] [--json]  groups of near-identical photos (resized, recompressed,
                                cropped, brightened copies, a PNG of a JPEG); S 0.5–1, default 0.9.
                                Lists only: LeanLens never deletes or moves a photo
Smart albums (saved searches, always up to date)
  albums list [--json]          every album with how many photos match it now
  albums show <name> [--limit N] [--json]
  albums save <name> <text…> [--min-score S | --all] [--folder P] [--from DATE] [--to DATE] [--sort relevance|date]
                                the search as \`search\` takes it; a name with spaces needs quotes
  albums rename <name> <new name>
  albums remove <name>          forget the album (it holds a search, never photos)
Models
  models list [--json]          the catalog and your models: size, licence, installed or not
  models use <id> [--now]       use a model for search; one that has not indexed the library yet
                                takes over once \`index\` (or the running app) has indexed it, unless --now
  models download <id> [--accept-license]   asks before a licence that needs acceptance
  models import <folder> [--variant quantized|fp16|fp32]   your own pair, an Immich model folder or a Hugging Face snapshot
  models remove <id>            delete a downloaded or imported model and its vectors
  tokenize <text> [--json]      the 77 CLIP token ids
${LAB_USAGE}
Other
  serve [--port N] [--host H]   the app in your browser (headless server)
  bench                          run the benchmarks (same as npm run bench)
  repair [--json]               check the database; when damaged, restore the newest backup (<data>/backups)

Data folder: --data <dir>, else $LEANLENS_DATA, else ${defaultDataDir()}
While the desktop app, serve or index --watch runs on the data folder, status, search and
similar ask it (over leanlens.sock in the data folder) instead of loading the model again;
LEANLENS_STANDALONE=1 makes them open the library themselves.`;

/** An error whose message already says what to do; printed without a stack, exit code 2. */
export class UsageError extends Error {}

export function need(words: string[], count: number, usage: string): string[] {
  if (words.length < count) throw new UsageError(`missing argument\nusage: leanlens ${usage}`);
  return words;
}

export function intFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got "${value}"`);
  return n;
}
