import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { escapeHtml, formatUtc } from "../email/format.ts";
import type { DevMailbox, StoredDevMail } from "../email/mailer.ts";

// On a phone each message is a block of lines instead of a row too wide to read.
const css = `
body{margin:0;padding:12px;font:15px/1.4 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933}
table{border-collapse:collapse;width:100%}
th,td{padding:6px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #d9e2ec}
td{overflow-wrap:anywhere}
.reason{color:#52606d}
.earlier{color:#7b8794}
@media (max-width:40rem){thead{display:none}tr,td{display:block}td{border:0;padding:2px 0}tr{padding:8px 0;border-bottom:1px solid #d9e2ec}}
`.trim();
const cssHash = `'sha256-${createHash("sha256").update(css).digest("base64")}'`;

function rows(messages: StoredDevMail[]): string {
  return messages
    .map((message) => {
      const about = message.about;
      const request = about
        ? `${escapeHtml(about.target)} <span class="reason">${escapeHtml(about.reason)}</span><br>requested ${escapeHtml(formatUtc(new Date(about.requestedAt)))}`
        : "";
      return `<tr><td>${escapeHtml(formatUtc(new Date(message.date)))}</td><td>${escapeHtml(message.to)}</td><td><a href="/dev/mail?id=${encodeURIComponent(message.id)}">${escapeHtml(message.subject)}</a></td><td>${request}</td></tr>`;
    })
    .join("\n");
}

function table(messages: StoredDevMail[], className = ""): string {
  return `<table${className ? ` class="${className}"` : ""}><thead><tr><th>Sent</th><th>To</th><th>Subject</th><th>Request</th></tr></thead><tbody>
${rows(messages)}
</tbody></table>`;
}

/**
 * /dev/mail: the development mailbox (SMTP_URL unset). Lists every message with the
 * request it is about, those of an earlier database (dropped and created anew since)
 * apart, since their links lead nowhere; with ?id=... shows one message's HTML as the
 * recipient would see it, buttons included.
 */
export function devMailPage(mailbox: Pick<DevMailbox, "list" | "currentDatabase">) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const messages = await mailbox.list();
    const id = url.searchParams.get("id");
    if (id) {
      const message = messages.find((candidate) => candidate.id === id);
      res.writeHead(message ? 200 : 404, {
        "content-type": "text/html; charset=utf-8",
        // The mail's own HTML, isolated: no scripts, links still work.
        "content-security-policy":
          "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation",
        "referrer-policy": "no-referrer",
      });
      res.end(message ? message.html : "no such message");
      return;
    }
    const database = await mailbox.currentDatabase();
    const current = messages.filter((message) => message.database === database);
    const earlier = messages.filter((message) => message.database !== database);
    const earlierSection = earlier.length
      ? `<details><summary>${earlier.length} message(s) of an earlier database: their links may no longer work</summary>
${table(earlier, "earlier")}
</details>`
      : "";
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": `default-src 'none'; style-src ${cssHash}`,
      "cache-control": "no-store",
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dev mailbox · Elevate</title><style>${css}</style></head>
<body><h1>Dev mailbox</h1><p>${current.length} message(s). Set SMTP_URL to deliver for real.</p>
${table(current)}
${earlierSection}
</body></html>`);
  };
}
