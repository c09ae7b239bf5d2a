import { describe, expect, it } from "vitest";
import { mjmlToHtml } from "./mjml-thread.ts";

const options = { validationLevel: "strict", keepComments: false, fonts: {} } as const;

describe("mjmlToHtml", () => {
  it("answers each source with its HTML or its validation errors, by line, in order", async () => {
    const [good, broken] = await mjmlToHtml(
      [
        "<mjml><mj-body><mj-section><mj-column><mj-text>Hello</mj-text></mj-column></mj-section></mj-body></mjml>",
        '<mjml>\n<mj-body>\n<mj-section>\n<mj-column>\n<mj-text colour="red">x</mj-text>\n</mj-column>\n</mj-section>\n</mj-body>\n</mjml>',
      ],
      options,
    );
    expect(good).toMatchObject({ html: expect.stringContaining("Hello") });
    expect(broken).toMatchObject({
      error: { errors: [{ line: 5, tagName: "mj-text", message: expect.stringContaining("colour") }] },
    });
  });
});
