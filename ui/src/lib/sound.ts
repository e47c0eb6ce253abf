// Short tones for the bench: high for success, low buzz for failure. WebAudio, no files.
let ctx: AudioContext | null = null;

export function beep(ok: boolean): void {
  try {
    ctx ??= new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = ok ? 'sine' : 'square';
    osc.frequency.value = ok ? 1320 : 180;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    const t = ctx.currentTime;
    osc.start(t);
    osc.stop(t + (ok ? 0.12 : 0.35));
  } catch {
    // No audio device: the colour feedback still shows.
  }
}
