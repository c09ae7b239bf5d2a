import type { IncomingMessage, ServerResponse } from "node:http";
import { escapeHtml } from "../email/format.ts";
import type { StoredDevMail } from "../email/mailer.ts";

/**
 * /dev/mail: the development mailbox (SMTP_URL unset). Lists every message; with
 * ?id=... shows one message's HTML as the recipient would see it, buttons included.
 */
export function devMailPage(list: () => Promise<StoredDevMail[]>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const messages = await list();
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
    const rows = messages
      .map(
        (message) =>
          `<tr><td>${escapeHtml(message.date)}</td><td>${escapeHtml(message.to)}</td><td><a href="/dev/mail?id=${encodeURIComponent(message.id)}">${escapeHtml(message.subject)}</a></td></tr>`,
      )
      .join("\n");
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'",
      "cache-control": "no-store",
    });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dev mailbox · Elevate</title></head>
<body><h1>Dev mailbox</h1><p>${messages.length} message(s). Set SMTP_URL to deliver for real.</p>
<table><thead><tr><th>Date</th><th>To</th><th>Subject</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`);
  };
}
