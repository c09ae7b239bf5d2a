import { Input, SegmentedControl, type SegmentedControlProps, Stack } from "@mantine/core";

/** A segmented control with a visible label, styled as the other fields' labels, that screen readers announce with it. */
export function LabelledSegments({ label, id, ...props }: { label: string; id: string } & SegmentedControlProps) {
  return (
    <Stack gap={4}>
      <Input.Label id={id} component="span">
        {label}
      </Input.Label>
      <SegmentedControl aria-labelledby={id} {...props} />
    </Stack>
  );
}
