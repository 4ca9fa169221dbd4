// A ustar archive of one directory (what a browser can hand over as one download): `tar xf
// FILE.tar` gives back the checkpoint directory that `qkv viz --model` opens.
const enc = new TextEncoder();

function header(name: string, size: number, type: '0' | '5', mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number, width: number) => h.set(enc.encode(text).subarray(0, width), at);
  const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0') + '\0';
  if (enc.encode(name).length > 100) throw new Error(`tar: name too long: ${name}`);
  put(name, 0, 100);
  put(octal(type === '5' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // the checksum counts its own field as spaces
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  const sum = h.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** `dir/` and its files, as the bytes of a .tar file. */
export function tarDirectory(dir: string, files: Record<string, Uint8Array | string>, mtime = Math.floor(Date.now() / 1000)): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [header(`${dir}/`, 0, '5', mtime)];
  for (const [name, content] of Object.entries(files)) {
    const bytes = typeof content === 'string' ? enc.encode(content) : content;
    parts.push(header(`${dir}/${name}`, bytes.length, '0', mtime), bytes, new Uint8Array((512 - (bytes.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024)); // two empty blocks end the archive
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
