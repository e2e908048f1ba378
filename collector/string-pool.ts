/**
 * One copy of a short string that many rigs report alike (pool URLs and statuses, makes, firmware versions,
 * notes): a sample crosses from the poll worker as a structured clone, with its own copy of every string, and at
 * 10,000 rigs the equal copies held by the live fleet were ~4 MB.
 *
 * Bounded by two generations of `capacity` strings each: a string is looked up in the young one, then the old
 * one (and brought back into the young one); when the young one is full it becomes the old one and the oldest
 * generation is dropped. Strings every cycle of polls reports stay; one-off texts (a note with a figure in it) go
 * after two generations. Dropping a generation only loses sharing: the strings held stay what they are.
 */
export class StringPool {
  private young = new Map<string, string>();
  private old = new Map<string, string>();

  /** `capacity`: strings per generation; longer strings than `maxLength` are not pooled. */
  constructor(
    private readonly capacity: number,
    private readonly maxLength: number,
  ) {}

  /** The pooled copy of `s` (equal to `s`), pooling `s` when it is the first. */
  intern<T extends string | null>(s: T): T {
    if (s === null || s.length > this.maxLength) return s;
    const held = this.young.get(s);
    if (held !== undefined) return held as T;
    const kept = this.old.get(s) ?? s;
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(kept, kept);
    return kept as T;
  }

  /** Whether `s` is pooled now. */
  has(s: string): boolean {
    return this.young.has(s) || this.old.has(s);
  }

  /** Strings held (both generations, a string in both counted twice). */
  size(): number {
    return this.young.size + this.old.size;
  }
}
