import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** One MJML validation error, as MJML reports it (lines of the source it was given). */
export interface MjmlValidationError {
  line: number;
  tagName: string;
  message: string;
}

export type MjmlResult = { html: string } | { error: { message: string; errors?: MjmlValidationError[] } };

export interface MjmlOptions {
  validationLevel: "strict" | "soft" | "skip";
  keepComments: boolean;
  fonts: Record<string, string>;
}

// Plain JavaScript run by the thread, so that it runs the same under tsx, vitest and from
// dist/. Each source gets its HTML or its error; nothing it throws reaches the caller raw.
const threadSource = `
const { parentPort, workerData } = require("node:worker_threads");
const mjml2html = require(workerData.mjml);
Promise.all(workerData.sources.map(async (source) => {
  try {
    return { html: (await mjml2html(source, workerData.options)).html };
  } catch (error) {
    const errors = Array.isArray(error && error.errors)
      ? error.errors.map(({ line, tagName, message }) => ({ line, tagName, message }))
      : undefined;
    return { error: { message: error instanceof Error ? error.message : String(error), errors } };
  }
})).then((results) => parentPort.postMessage(results));
`;

/**
 * MJML sources to HTML, in a worker thread that ends when they are done. MJML and what
 * it loads hold about 50 MB of memory, which a process that loaded them would keep for
 * as long as it runs, only to compile the templates once at its start
 * (docs/benchmarks.md, memory).
 */
export function mjmlToHtml(sources: string[], options: MjmlOptions): Promise<MjmlResult[]> {
  const mjml = createRequire(import.meta.url).resolve("mjml");
  return new Promise((resolve, reject) => {
    const thread = new Worker(threadSource, { eval: true, workerData: { mjml, sources, options } });
    thread.once("message", resolve);
    thread.once("error", reject);
    // After its answer this settles nothing; before it, the thread died without one.
    thread.once("exit", (code) => reject(new Error(`the MJML thread exited (code ${code}) without an answer`)));
  });
}
