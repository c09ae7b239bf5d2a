import { SegmentedControl, type SegmentedControlProps, Stack, Text } from "@mantine/core";

/** A segmented control with a visible label that screen readers announce with it. */
export function LabelledSegments({ label, id, ...props }: { label: string; id: string } & SegmentedControlProps) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id={id}>
        {label}
      </Text>
      <SegmentedControl aria-labelledby={id} {...props} />
    </Stack>
  );
}
