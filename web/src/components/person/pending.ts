// Read-your-writes for the candidate's pages: after a change the read model shows it a moment later, so the
// page keeps showing "处理中" and asks again until the answer reflects the change (or gives up quietly).

export async function untilFresh<T>(
  load: () => Promise<T>,
  fresh: (value: T) => boolean,
  opts: { tries?: number; intervalMs?: number } = {},
): Promise<{ value: T; fresh: boolean }> {
  const tries = opts.tries ?? 30
  const interval = opts.intervalMs ?? 1000
  let value = await load()
  for (let i = 1; i < tries && !fresh(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, interval))
    value = await load()
  }
  return { value, fresh: fresh(value) }
}

/** Date-time in China time, as the platform shows it everywhere. */
export function chinaTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false })
}
