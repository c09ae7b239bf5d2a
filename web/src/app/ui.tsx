import { Alert, Table } from "@mantine/core";
import { useMediaQuery } from "@mantine/hooks";
import type { ReactNode } from "react";

/** A failure to show: filled dark red, which keeps WCAG AA contrast for the title and the text. */
export function ErrorAlert({ title, children }: { title?: string; children: ReactNode }) {
  return (
    <Alert variant="filled" color="red.9" title={title} role="alert">
      {children}
    </Alert>
  );
}

/**
 * A table that scrolls sideways on narrow screens. The scrolling region is focusable
 * and named, so keyboard users can scroll it and screen readers announce it.
 */
export function ScrollTable({ label, minWidth, children }: { label: string; minWidth: number; children: ReactNode }) {
  return (
    <Table.ScrollContainer minWidth={minWidth} type="native" tabIndex={0} role="region" aria-label={label}>
      {children}
    </Table.ScrollContainer>
  );
}

/** Narrower than Mantine's sm breakpoint (48em), where the navigation folds behind the menu button. */
export function usePhone(): boolean {
  return useMediaQuery("(max-width: 47.99em)") ?? false;
}
