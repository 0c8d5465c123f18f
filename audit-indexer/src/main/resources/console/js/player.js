// The player over a session's timeline: a position, play/pause with the original timing scaled by a
// speed (or instant), steps, and entries appended while a live session runs. No DOM here.

/** The longest pause between two entries at 1x, so an idle session does not stall the replay. */
export const MAX_GAP_MS = 4000;

export class Player {
  /** onChange(position, playing) is called after every move. */
  constructor(onChange) {
    this.entries = [];
    this.position = 0;
    this.playing = false;
    this.speed = 1;
    this.timer = null;
    this.onChange = onChange;
  }

  /** Replaces the entries (a refreshed timeline); keeps the position; a playing player that reached the end goes on. */
  setEntries(entries) {
    const wasAtEnd = this.entries.length === 0 || this.position >= this.entries.length - 1;
    const grew = entries.length > this.entries.length;
    this.entries = entries;
    if (this.position > entries.length - 1) this.position = Math.max(0, entries.length - 1);
    if (grew && this.playing && wasAtEnd && !this.timer) this.schedule();
    this.changed();
  }

  /** speed: 1, 2, 10 or 'instant'. */
  setSpeed(speed) {
    this.speed = speed === 'instant' ? 'instant' : Number(speed) || 1;
    if (this.playing) {
      this.cancel();
      this.schedule();
    }
  }

  seek(index) {
    this.position = Math.max(0, Math.min(index, this.entries.length - 1));
    this.changed();
  }

  forward() {
    this.pause();
    this.seek(this.position + 1);
  }

  back() {
    this.pause();
    this.seek(this.position - 1);
  }

  first() {
    this.pause();
    this.seek(0);
  }

  last() {
    this.pause();
    this.seek(this.entries.length - 1);
  }

  play() {
    if (this.entries.length === 0) return;
    if (this.position >= this.entries.length - 1) this.position = 0;
    this.playing = true;
    this.changed();
    this.schedule();
  }

  pause() {
    this.playing = false;
    this.cancel();
    this.changed();
  }

  /** Milliseconds to wait before showing entry i+1 after entry i. */
  delay(i) {
    if (this.speed === 'instant') return 0;
    const a = Date.parse(this.entries[i] && this.entries[i].at);
    const b = Date.parse(this.entries[i + 1] && this.entries[i + 1].at);
    const gap = isNaN(a) || isNaN(b) ? 500 : Math.max(0, Math.min(b - a, MAX_GAP_MS));
    return Math.max(50, gap) / this.speed;
  }

  schedule() {
    this.cancel();
    if (!this.playing) return;
    if (this.speed === 'instant') {
      this.position = Math.max(0, this.entries.length - 1);
      this.changed();
      return; // stays "playing" at the end, so a live session's new entries show at once
    }
    if (this.position >= this.entries.length - 1) return; // waits for more entries (live) or a pause
    this.timer = setTimeout(() => {
      this.timer = null;
      this.position += 1;
      this.changed();
      this.schedule();
    }, this.delay(this.position));
  }

  cancel() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  changed() {
    if (this.onChange) this.onChange(this.position, this.playing);
  }
}
