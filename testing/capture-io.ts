/** An `Io` for a CLI command under test that keeps everything it prints, stdout and stderr together. */
export function captureIo() {
  const io = {
    text: '',
    env: {},
    out(t: string) {
      io.text += t;
    },
    err(t: string) {
      io.text += t;
    },
  };
  return io;
}
