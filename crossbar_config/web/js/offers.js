// What a driver may accept, kept live: the requests without a pick-up location, which every
// driver hears of, and the located ones offered to him alone (events on taxi.drivers with
// offer="open" and its window's end, `expires`; offer="closed" when it is no longer his).
// The router delivers an offer only to the drivers it is for, so the page shows whatever
// comes: only his own.

import { call } from "./connection.js";
import { DRIVERS_TOPIC, OFFER, PROCEDURE, STATUS } from "./contract.js";
import { isNewer } from "./trips.js";
import { personName, toast } from "./ui.js";

const oldestFirst = (a, b) => a.created.localeCompare(b.created);

export class Available {
  constructor(onChange) {
    this.onChange = onChange;
    this.trips = new Map();  // nk -> trip: REQUESTED and open to him
    this.seen = new Map();  // nk -> the latest state heard of (events come at least once)
    // Kept across reconnects: trip.available lists a located trip for as long as he may accept
    // it (the accept rule), and says nothing of his window; what the page heard of it does.
    this.deadlines = new Map();  // nk -> when his offer's window ends (ms since the epoch)
    this.closed = new Set();  // nks whose offer to him has closed: he is never offered one again
  }

  async attach(session) {
    // Subscribe first, then fetch: events that arrive while the list is on its way are kept and
    // applied on top of it, so none is lost and none is undone by an older answer.
    const early = [];
    let onEvent = (trip, notice) => early.push([trip, notice]);
    await session.subscribe(DRIVERS_TOPIC, ([trip], notice) => onEvent(trip, notice));
    const open = await call(session, PROCEDURE.TRIP_AVAILABLE);
    this.seen = new Map(open.map((trip) => [trip.nk, trip]));
    this.trips = new Map(open.filter((trip) => this.isOpen(trip.nk)).map((trip) => [trip.nk, trip]));
    onEvent = (trip, notice) => this.apply(trip, notice, true);
    early.forEach(([trip, notice]) => this.apply(trip, notice, false));
    this.onChange();
  }

  /** An event on taxi.drivers: the trip, and for a located one {offer, expires}. */
  apply(trip, { offer, expires } = {}, live = true) {
    const { nk } = trip;
    // These two hold whatever the event's order among its copies: an offer's window is fixed
    // once made, and a closed offer never opens again (nobody is offered a trip twice).
    if (offer === OFFER.CLOSED) this.closed.add(nk);
    if (offer === OFFER.OPEN && !this.deadlines.has(nk)) this.deadlines.set(nk, Date.parse(expires));
    if (isNewer(trip, this.seen.get(nk))) this.seen.set(nk, trip);
    const latest = this.seen.get(nk);
    const wasShown = this.trips.has(nk);
    if (latest.status === STATUS.REQUESTED && this.isOpen(nk)) this.trips.set(nk, latest);
    else this.trips.delete(nk);
    if (live && !wasShown && this.trips.has(nk)) {
      const what = offer ? `Ride offer for you from ${personName(trip.rider)}` : "New ride request";
      toast(`${what}: ${trip.pick_up_address} → ${trip.drop_off_address}`);
    }
    if (live) this.onChange();
  }

  /** Whether a trip is still his to take, as far as his own offer goes (a late "open" is none). */
  isOpen(nk) {
    return !this.closed.has(nk) && !(this.deadlines.get(nk) <= Date.now());
  }

  /** When his offer of a located trip ends, if the page knows (null: listed after a reload). */
  deadline(nk) {
    return this.deadlines.get(nk) ?? null;
  }

  /** Takes down the offers whose window has ended (the service's "closed" follows). */
  endWindows() {
    const ended = [...this.trips.keys()].filter((nk) => !this.isOpen(nk));
    ended.forEach((nk) => this.remove(nk));
  }

  remove(nk) {
    if (this.deadlines.has(nk)) this.closed.add(nk);
    if (this.trips.delete(nk)) this.onChange();
  }

  list() {
    return [...this.trips.values()].sort(oldestFirst);
  }
}
