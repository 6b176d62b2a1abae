/** A series of a time chart (kept apart from chart.ts, which loads uPlot and its CSS). */
export interface LineSeries {
  label: string;
  values: (number | null)[];
  color?: string;
  /** Dashed: the previous period in comparisons. */
  dash?: boolean;
  fill?: boolean;
}
