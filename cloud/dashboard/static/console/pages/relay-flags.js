// The relay flags of an attendance record (a phone that checked in for several students, check-ins
// answered too slowly for a phone in the room, one phone in two rooms at once) in words a teacher
// understands, with their evidence.
import { fmt, t } from '../i18n.js';

/**
 * One flag as a sentence. `studentId` is the record's student; `names` (student id → name) and
 * `rooms` (room id → name) name the others where the page knows them.
 */
export function flagText(flag, { studentId, names = new Map(), rooms = new Map() } = {}) {
  const e = flag.evidence;
  if (flag.kind === 'shared_peer') {
    const others = e.student_ids.filter((id) => id !== studentId).map((id) => names.get(id) ?? t('flag.someone')).join(', ');
    return t('flag.shared_peer', { names: others });
  }
  if (flag.kind === 'slow_checkin') {
    return t('flag.slow_checkin', { count: e.windows.length, max: fmt.number(e.max_latency_ms), threshold: fmt.number(e.threshold_ms) });
  }
  if (flag.kind === 'two_rooms') return t('flag.two_rooms', { room: rooms.get(e.other_room_id) ?? t('flag.other_room') });
  return flag.kind;
}

/** The flag as a list item's text: "Check: …". */
export const flagLine = (flag, context) => `${t('flag.label')}: ${flagText(flag, context)}`;
