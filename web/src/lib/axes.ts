/**
 * A time axis with a tick about every `spacing` pixels of the chart's width, two at the least.
 *
 * @example x: timeAxis('Time', width, 120)
 */
export function timeAxis(label: string, width: number, spacing: number) {
  return { type: 'utc', label, ticks: Math.max(2, Math.floor(width / spacing)) } as const;
}
