// The driver's availability: Online sends his position (driver.locate) at once and every few
// seconds, from the browser's geolocation or, when that is denied or missing, from a point he
// types in; Offline says driver.offline(), and offers stop. The service forgets a driver it has
// not heard from for a while (TAXI_DRIVER_STALE_SECONDS, 30 s by default): a page that is
// closed or has lost its connection soon gets no offers either.

import { OFFLINE, call } from "./connection.js";
import { PROCEDURE } from "./contract.js";
import { formatPoint, readPoint, watchPosition, whyNoPosition } from "./position.js";
import { $, errorMessage, toast } from "./ui.js";

// Well within the stale time, so that a lost update or two costs no offers.
const LOCATE_SECONDS = 5;

export class Presence {
  constructor() {
    this.session = null;
    this.toggle = $("#presence-toggle");
    this.form = $("#position-form");
    this.toggle.addEventListener("click", () => (this.online ? this.goOffline() : this.goOnline()));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.setManual(readPoint(this.form));
    });
    this.reset();
  }

  attach(session) {
    this.session = session;
    this.locate();  // after a drop: tell the service at once that he is still here
  }

  detach() {
    this.session = null;
  }

  reset() {
    this.stop();
    this.online = false;
    this.located = false;  // the service has had his position since he went online: offers may come
    this.leaving = false;  // driver.offline() is on its way
    this.sending = null;  // the driver.locate in flight, if any
    this.position = null;  // {lat, lng}: the latest, sent or about to be
    this.manual = false;  // the position is the one typed in: the device's is not followed
    this.form.reset();
    $("#manual-position").open = false;
    this.note("");
    this.render();
  }

  goOnline() {
    this.online = true;
    if (!this.manual) this.stopWatching = watchPosition((point) => this.moved(point), (error) => this.noPosition(error));
    this.timer = setInterval(() => this.locate(), LOCATE_SECONDS * 1000);
    this.locate();
    this.render();
  }

  async goOffline() {
    this.online = this.located = false;
    this.leaving = true;
    this.stop();
    this.render();
    try {
      // A position still on its way after the offline would put him back online.
      await this.sending?.catch(() => {});
      await call(this.session, PROCEDURE.DRIVER_OFFLINE);
    } catch (failure) {
      // Without a connection the service stops offering him anyway once he is stale.
      if (failure.error !== OFFLINE) toast(errorMessage(failure), "error");
    } finally {
      this.leaving = false;
      this.render();
    }
  }

  stop() {
    this.unwatch();
    clearInterval(this.timer);
    this.timer = null;
  }

  unwatch() {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  moved(point) {
    const first = !this.position;
    this.position = point;
    this.note(`Your position: ${formatPoint(point)} (from this device).`);
    if (first) this.locate();  // the rest go out on the timer: a moving phone reports often
  }

  noPosition(error) {
    this.unwatch();
    $("#manual-position").open = true;
    this.note(`${whyNoPosition(error)} Enter your position below to get offers.`, "error");
    this.form.elements.lat.focus();
  }

  setManual(point) {
    this.manual = true;
    this.unwatch();
    this.position = point;
    this.note(`Your position: ${formatPoint(point)} (entered by hand).`);
    this.locate();
  }

  async locate() {
    if (!this.online || !this.session || !this.position) return;
    const sending = call(this.session, PROCEDURE.DRIVER_LOCATE, this.position);
    this.sending = sending;
    try {
      await sending;
      if (this.online && !this.located) {
        this.located = true;
        this.render();
      }
    } catch (failure) {
      // Sent again in a few seconds; a dropped connection is on the banner already.
      if (failure.error !== OFFLINE) this.note(errorMessage(failure), "error");
    } finally {
      if (this.sending === sending) this.sending = null;
    }
  }

  note(text, kind = "info") {
    const note = $("#position-note");
    note.textContent = text;
    note.classList.toggle("error", kind === "error");
  }

  stateText() {
    if (this.leaving) return "Going offline…";
    if (!this.online) return "You are offline: you get no ride offers.";
    if (!this.located) return "Going online: waiting for your position…";
    return "You are online: ride offers near you appear below.";
  }

  render() {
    this.toggle.textContent = this.online ? "Go offline" : "Go online";
    this.toggle.setAttribute("aria-pressed", String(this.online));
    this.toggle.disabled = this.leaving;
    $("#presence-state").textContent = this.stateText();
    $("#presence").dataset.online = String(this.online);
  }
}
