// The rider's pick-up point, on the request form: a latitude and a longitude, filled in from the
// browser's geolocation when she allows it (or asks with "Use my location"), typed in, or left
// empty ("No location"): then every driver sees the request, as without dispatch.

import { currentPosition, fillPoint, geolocationGranted, readPoint, whyNoPosition } from "./position.js";
import { $ } from "./ui.js";

export class PickUpPoint {
  constructor(form) {
    this.form = form;
    this.note = $("#pick-up-note");
    // One of the two alone is no point: the browser asks for the other before it submits.
    form.addEventListener("input", () => this.requireBoth());
    $("#use-my-location").addEventListener("click", () => this.locate());
    $("#no-location").addEventListener("click", () => this.clear());
  }

  /** {lat, lng}, or null for no location. */
  point() {
    return readPoint(this.form);
  }

  /** Fills in her position if the page may read it without a prompt and she has typed none. */
  async prefill() {
    if (this.point() || !(await geolocationGranted())) return;
    try {
      const point = await currentPosition();
      if (!this.point()) this.fill(point);  // she typed one meanwhile: hers wins
    } catch {
      // Nothing to fill in: she types a point or requests without one.
    }
  }

  async locate() {
    this.say("Finding your location…");
    try {
      this.fill(await currentPosition());
    } catch (error) {
      this.say(`${whyNoPosition(error)} Type a point, or request without one.`);
    }
  }

  fill(point) {
    fillPoint(this.form, point);
    this.requireBoth();
    this.say("Your location, from this device.");
  }

  clear() {
    this.form.elements.lat.value = this.form.elements.lng.value = "";
    this.requireBoth();
    this.say("No location: every driver will see the request.");
  }

  reset() {
    this.clear();
    this.say("");
  }

  requireBoth() {
    const { lat, lng } = this.form.elements;
    lat.required = lng.required = lat.value !== "" || lng.value !== "";
  }

  say(text) {
    this.note.textContent = text;
  }
}
