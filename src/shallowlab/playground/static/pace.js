// The page's pace while playing: redraws a second and epochs between redraws over its last
// WINDOW ms, and the counts since Play; written into the page's stats at each redraw.

const WINDOW = 3000;

export class Pace {
  constructor() { this.reset(); }

  reset() { this.times = []; this.epochs = []; this.since = null; }

  record(now, epoch, stats) {
    this.times.push(now); this.epochs.push(epoch);
    while (this.times.length > 2 && now - this.times[0] > WINDOW) {
      this.times.shift(); this.epochs.shift();
    }
    stats.redraws += 1;
    if (this.since === null) this.since = { t: now, epoch, redraws: stats.redraws };
    stats.sincePlay = { redraws: stats.redraws - this.since.redraws,
      epochs: epoch - this.since.epoch, ms: now - this.since.t };
    const n = this.times.length;
    if (n > 1) {
      stats.redrawsPerSecond = ((n - 1) * 1000) / (this.times[n - 1] - this.times[0]);
      stats.epochsPerRedraw = (this.epochs[n - 1] - this.epochs[0]) / (n - 1);
    }
  }
}
