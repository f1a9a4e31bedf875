// Live toasts' browser side (components/toasts.py): dismiss a toast, and the wall display's
// optional beep. Browsers let a page play sound only after a user gesture, so the sound stays off
// until someone presses the wall's sound switch; that press also unlocks the audio context.
window.bfmLive = (function () {
  var audio = null;
  var state = {beeps: 0, soundOn: false};

  function unlock() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return false;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
    return true;
  }

  // Two short tones: distinct from any alarm the room already has, and not startling.
  function beep() {
    if (!audio) return false;
    var now = audio.currentTime;
    [0, 0.28].forEach(function (offset, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = i ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, now + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, now + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + offset);
      osc.stop(now + offset + 0.25);
    });
    state.beeps += 1;
    return true;
  }

  return {state: state, unlock: unlock, beep: beep};
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  live: {
    dismiss: function (clicks, className) {
      if (!clicks) return window.dash_clientside.no_update;
      return (className || "toast") + " toast-dismissed";
    },

    beep: function (news, soundOn) {
      if (!news || !news.n || !soundOn) return window.dash_clientside.no_update;
      return window.bfmLive.beep() ? news.id : window.dash_clientside.no_update;
    },

    // The wall's switch: each press flips it; turning it on unlocks audio inside the press itself.
    toggleSound: function (clicks) {
      var on = Boolean(clicks && clicks % 2 === 1);
      if (on) window.bfmLive.unlock();
      window.bfmLive.state.soundOn = on;
      return [on, on ? "Sound on" : "Sound off", on ? "wall-sound on" : "wall-sound"];
    }
  }
});
