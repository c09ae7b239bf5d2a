import { describe, expect, it } from "vitest";
import { canonicalName, catalogKeys, shortTaskKey } from "./names.ts";

const canonical = "exchange\\new-moverequest";

describe("canonical task names", () => {
  it("folds every way of typing a cmdlet name to one key", () => {
    for (const spelling of [
      "Exchange\\New-MoveRequest",
      "exchange\\new-moverequest",
      "EXCHANGE\\NEW-MOVEREQUEST",
      "Exchange/New-MoveRequest",
      "  Exchange\\New-MoveRequest\t",
      "Exchange \\ New-MoveRequest",
      "Exchange\\\\New-MoveRequest",
      "Ｅｘｃｈａｎｇｅ＼Ｎｅｗ－ＭｏｖｅＲｅｑｕｅｓｔ", // fullwidth forms
      "Exchange\\New\u2013MoveRequest", // en dash
      "Exchange\\New\u2212MoveRequest", // minus sign
      "Exchange\\New\u2010MoveRequest", // hyphen
      "Exchange\u2216New-MoveRequest", // set minus
      "Exchange\\New-Move\u200BRequest", // zero-width space
      "Exchange\\New-Move\u00ADRequest", // soft hyphen
      "\uFEFFExchange\\New-MoveRequest", // byte order mark
    ]) {
      expect(canonicalName("TASK", spelling), JSON.stringify(spelling)).toBe(canonical);
    }
  });

  it("keeps names that differ in letters apart (look-alike letters are other names)", () => {
    expect(canonicalName("TASK", "Exchange\\N\u0435w-MoveRequest")).not.toBe(canonical); // Cyrillic e
    expect(canonicalName("TASK", "Exchange\\New-MoveRequests")).not.toBe(canonical);
  });

  it("gives tasks a short key without the module, and roles none", () => {
    expect(shortTaskKey(canonical)).toBe("new-moverequest");
    expect(catalogKeys("TASK", "New-MoveRequest")).toEqual({ key: "new-moverequest", shortKey: "new-moverequest" });
    expect(catalogKeys("ROLE", "Move Mailboxes")).toEqual({ key: "move mailboxes", shortKey: null });
  });

  it("folds role names by case and spacing but keeps their inner spaces", () => {
    expect(canonicalName("ROLE_GROUP", "  recipient\u00A0 MANAGEMENT ")).toBe("recipient management");
  });
});
