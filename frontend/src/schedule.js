// Schedule in the newsroom's time zone, stored in UTC: the picker's wall-clock time is read in
// the chosen zone and sent as an ISO instant with Z.
import { $ } from "./dom.js";

function offsetMs(zone, instant) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - instant;
}

/** The instant that `local` ("2026-12-01T09:30") is on the wall clocks of `zone`. */
export function zonedToUtc(local, zone) {
  // local: "2026-12-01T09:30" or with seconds, as a datetime-local input gives it
  const [date, time] = local.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm, ss = 0] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm, ss);
  let guess = wall - offsetMs(zone, wall);
  guess = wall - offsetMs(zone, guess); // once more, for a guess that crossed a DST change
  return new Date(guess).toISOString();
}

export function scheduleControls() {
  const select = $("#schedule-tz");
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [here, "UTC"];
  for (const zone of zones.includes("UTC") ? zones : [...zones, "UTC"]) {
    const option = document.createElement("option");
    option.value = zone;
    option.textContent = zone;
    option.selected = zone === here;
    select.append(option);
  }
  const show = () => {
    const at = utc();
    $("#schedule-utc").textContent = at ? `= ${at.replace(".000Z", "Z").replace("T", " ")} UTC` : "";
  };
  function utc() {
    const local = $("#schedule-at").value;
    return local ? zonedToUtc(local, select.value) : null;
  }
  $("#schedule-at").addEventListener("input", show);
  select.addEventListener("change", show);
  return { utc };
}
