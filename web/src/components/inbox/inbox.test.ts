import { describe, expect, it } from 'vitest'
import { badgeText, chinaMinute, kindLabel, kindType, markedRead, unreadFirst } from './inbox'

describe('inbox', () => {
  it('shows no badge at zero, the count, and 99+ beyond', () => {
    expect(badgeText(null)).toBe('')
    expect(badgeText(0)).toBe('')
    expect(badgeText(7)).toBe('7')
    expect(badgeText(99)).toBe('99')
    expect(badgeText(100)).toBe('99+')
  })

  it('labels every kind in Chinese and colours the bad news', () => {
    expect(kindLabel('exam_scheduled')).toBe('考试安排')
    expect(kindLabel('something_new')).toBe('通知')
    expect(kindType('person_blacklisted')).toBe('danger')
    expect(kindType('voucher_rejected')).toBe('warning')
    expect(kindType('certificate_issued')).toBe('success')
  })

  it('shows times in China time to the minute', () => {
    expect(chinaMinute('2026-12-03T01:30:00Z')).toBe('2026-12-03 09:30')
    expect(chinaMinute('2026-12-03T23:59:00+08:00')).toBe('2026-12-03 23:59')
    expect(chinaMinute('2026-12-31T16:05:00Z')).toBe('2027-01-01 00:05')
    expect(chinaMinute(null)).toBe('—')
    expect(chinaMinute('not a time')).toBe('—')
  })

  it('puts unread messages first, newest first in each group', () => {
    const items = [
      { id: 'a', read: true, created_at: '2026-12-03T10:00:00+08:00' },
      { id: 'b', read: false, created_at: '2026-12-01T10:00:00+08:00' },
      { id: 'c', read: false, created_at: '2026-12-02T10:00:00+08:00' },
      { id: 'd', read: true, created_at: '2026-12-04T10:00:00+08:00' },
    ]
    expect(unreadFirst(items).map((i) => i.id)).toEqual(['c', 'b', 'd', 'a'])
    expect(items[0].id).toBe('a') // the input is not changed
  })

  it('marks one message read and leaves the others', () => {
    const items = [
      { id: 'a', read: false },
      { id: 'b', read: false },
    ]
    expect(markedRead(items, 'b')).toEqual([
      { id: 'a', read: false },
      { id: 'b', read: true },
    ])
    expect(items[1].read).toBe(false)
  })
})
