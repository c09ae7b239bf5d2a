import { readFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "../config/project-root.ts";
import { escapeHtml } from "./format.ts";
import { mjmlToHtml } from "./mjml-thread.ts";
import { layoutPlaceholders, type TemplateName, type TemplateVars, templateNames, templates } from "./templates.ts";

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export class EmailTemplateError extends Error {
  override name = "EmailTemplateError";
}

const emailsDir = path.join(projectRoot, "emails");
const layoutFile = "layout.mjml";
const contentSlot = "{{> content}}";
const placeholderPattern = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

interface Slot {
  name: string;
  /** The whole value of an href, so the value must be an absolute http(s) URL. */
  isUrl: boolean;
}

/** Compiled HTML cut at its placeholders: literals[i] precedes slots[i], and one literal closes it. */
interface CompiledTemplate {
  literals: string[];
  slots: Slot[];
}

let compiled: Map<TemplateName, Promise<CompiledTemplate>> | undefined;

/** A template's compiled HTML. The first template asked for compiles them all, in one MJML thread. */
function compiledTemplate(name: TemplateName): Promise<CompiledTemplate> {
  compiled ??= compileAll();
  return compiled.get(name)!;
}

/** The shared layout, cut at its content slot. */
async function layoutAroundSlot(): Promise<{ beforeSlot: string; afterSlot: string }> {
  const layout = await readFile(path.join(emailsDir, layoutFile), "utf8");
  const slotAt = layout.indexOf(contentSlot);
  if (slotAt < 0 || layout.includes(contentSlot, slotAt + 1)) {
    throw new EmailTemplateError(`${layoutFile} must contain ${contentSlot} exactly once`);
  }
  return { beforeSlot: layout.slice(0, slotAt), afterSlot: layout.slice(slotAt + contentSlot.length) };
}

function compileAll(): Map<TemplateName, Promise<CompiledTemplate>> {
  const layout = layoutAroundSlot();
  const sources = Promise.all(
    templateNames.map(async (name) => {
      const definition = templates[name];
      const [{ beforeSlot, afterSlot }, body] = await Promise.all([
        layout,
        readFile(path.join(emailsDir, definition.mjml), "utf8"),
      ]);
      return { source: beforeSlot + body + afterSlot, locate: sourceLocator(beforeSlot, body, definition.mjml) };
    }),
  );
  const results = sources.then((all) =>
    mjmlToHtml(
      all.map(({ source }) => source),
      // No web-font links: fetching them would tell a third party when each message is opened.
      { validationLevel: "strict", keepComments: false, fonts: {} },
    ),
  );
  return new Map(
    templateNames.map((name, index) => {
      const template = Promise.all([sources, results]).then(([all, outcomes]) => {
        const outcome = outcomes[index]!;
        if ("error" in outcome) {
          const details = outcome.error.errors
            ? outcome.error.errors
                .map((entry) => `  ${all[index]!.locate(entry.line)} (${entry.tagName}): ${entry.message}`)
                .join("\n")
            : outcome.error.message;
          throw new EmailTemplateError(`${name}: MJML compilation failed\n${details}`);
        }
        return cutAtPlaceholders(name, outcome.html, [...layoutPlaceholders, ...templates[name].placeholders]);
      });
      // Asked for or not, a broken template is no unhandled rejection: each caller still sees it.
      template.catch(() => {});
      return [name, template] as const;
    }),
  );
}

/** MJML reports lines of the layout and fragment joined together; map them back to the file the author edits. */
function sourceLocator(beforeSlot: string, body: string, bodyFile: string): (line: number) => string {
  const slotLine = beforeSlot.split("\n").length;
  const bodyLines = body.split("\n").length;
  return (line) => {
    if (line < slotLine) return `${layoutFile}:${line}`;
    if (line < slotLine + bodyLines) return `${bodyFile}:${line - slotLine + 1}`;
    return `${layoutFile}:${line - bodyLines + 1}`;
  };
}

function cutAtPlaceholders(name: TemplateName, html: string, declared: readonly string[]): CompiledTemplate {
  const literals: string[] = [];
  const slots: Slot[] = [];
  let position = 0;
  for (const match of html.matchAll(placeholderPattern)) {
    const literal = html.slice(position, match.index);
    position = match.index + match[0].length;
    literals.push(literal);
    slots.push({ name: match[1] as string, isUrl: /\shref="$/.test(literal) && html[position] === '"' });
  }
  literals.push(html.slice(position));

  const problems: string[] = [];
  if (literals.some((literal) => literal.includes("{{") || literal.includes("}}"))) {
    problems.push("malformed placeholder (expected {{name}} with a letters-and-digits name)");
  }
  const used = new Set(slots.map((slot) => slot.name));
  const undeclared = [...used].filter((placeholder) => !declared.includes(placeholder));
  const unused = declared.filter((placeholder) => !used.has(placeholder));
  if (undeclared.length > 0) problems.push(`placeholders without a value: ${undeclared.join(", ")}`);
  if (unused.length > 0) problems.push(`declared placeholders the template never shows: ${unused.join(", ")}`);
  if (problems.length > 0) throw new EmailTemplateError(`${name}: ${problems.join("; ")}`);
  return { literals, slots };
}

function fill(name: TemplateName, template: CompiledTemplate, values: Readonly<Record<string, string>>): string {
  let html = template.literals[0] ?? "";
  template.slots.forEach((slot, index) => {
    const value = values[slot.name];
    if (value === undefined) throw new EmailTemplateError(`${name}: no value for {{${slot.name}}}`);
    html += escapeHtml(slot.isUrl ? httpUrl(name, slot.name, value) : value) + template.literals[index + 1];
  });
  return html;
}

function httpUrl(name: TemplateName, placeholder: string, value: string): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol !== "https:" && url?.protocol !== "http:") {
    // The value is left out of the message: decision links carry secret tokens.
    throw new EmailTemplateError(`${name}: {{${placeholder}}} must be an absolute http(s) URL`);
  }
  return url.href;
}

/** Subjects become a mail header: one line, no control characters. */
function singleLine(value: string): string {
  return value.replace(/[\p{Cc}\s]+/gu, " ").trim();
}

/** Renders one message; the templates' MJML is compiled on first use and reused afterwards. */
export async function renderEmail<N extends TemplateName>(name: N, vars: TemplateVars<N>): Promise<RenderedEmail> {
  const definition = templates[name];
  const subject = singleLine(definition.subject(vars));
  const html = fill(name, await compiledTemplate(name), {
    ...definition.values(vars),
    subject,
    orgName: vars.orgName,
    publicUrl: vars.publicUrl,
  });
  return { subject, html, text: definition.text(vars) };
}

/**
 * Compiles every template, failing on any MJML validation error or placeholder mismatch, so a broken template
 * fails the build instead of a send. All failures are reported together.
 */
export async function compileAllTemplates(): Promise<void> {
  const results = await Promise.allSettled(templateNames.map(compiledTemplate));
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
  if (failures.length > 0) {
    const messages = failures.map((failure) => (failure instanceof Error ? failure.message : String(failure)));
    throw new AggregateError(failures, `Email templates failed to compile:\n${messages.join("\n")}`);
  }
}
