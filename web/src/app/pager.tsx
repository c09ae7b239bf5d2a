import { Button, Group } from "@mantine/core";
import { useState } from "react";

/** Cursor paging forward through a Relay connection, one page at a time. */
export function usePager() {
  const [cursors, setCursors] = useState<string[]>([]);
  return {
    after: cursors.at(-1) ?? null,
    page: cursors.length + 1,
    next: (endCursor: string) => setCursors((current) => [...current, endCursor]),
    previous: () => setCursors((current) => current.slice(0, -1)),
    reset: () => setCursors([]),
  };
}

export function Pager({
  pager,
  pageInfo,
}: {
  pager: ReturnType<typeof usePager>;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined;
}) {
  if (pager.page === 1 && !pageInfo?.hasNextPage) return null;
  return (
    <Group justify="flex-end">
      <Button variant="default" disabled={pager.page === 1} onClick={pager.previous}>
        Previous page
      </Button>
      <Button
        variant="default"
        disabled={!pageInfo?.hasNextPage || !pageInfo.endCursor}
        onClick={() => pageInfo?.endCursor && pager.next(pageInfo.endCursor)}
      >
        Next page
      </Button>
    </Group>
  );
}
