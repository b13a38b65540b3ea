//! Fixed-size formatting buffers on the stack: kernel messages are formatted without
//! allocating.

use core::fmt;

/// A `fmt::Write` target of `N` bytes that truncates, marking the cut with `...`.
///
/// ```
/// use core::fmt::Write;
/// use freebsd_kmi::fmt_buf::FmtBuf;
/// let mut b = FmtBuf::<8>::new();
/// write!(b, "{}", "hello kernel").unwrap();
/// assert_eq!(b.as_bytes(), b"hello...");
/// ```
pub struct FmtBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    // Writes stop at `cap` (N, or less while a tail is reserved).
    cap: usize,
    truncated: bool,
    // A write was cut: further writes are dropped until `release_tail`.
    closed: bool,
}

impl<const N: usize> FmtBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        FmtBuf { buf: [0; N], len: 0, cap: N, truncated: false, closed: false }
    }

    /// Keeps the last `n` bytes free: text written from now on is cut (with `...`) so
    /// that `n` bytes still fit after it. Undo with [`FmtBuf::release_tail`].
    pub fn reserve_tail(&mut self, n: usize) {
        self.cap = N.saturating_sub(n).max(self.len);
    }

    /// Makes the whole buffer available again, also after a cut, so that a reserved
    /// tail (such as a panic's location) can be written.
    pub fn release_tail(&mut self) {
        self.cap = N;
        self.closed = false;
    }

    /// The text, ending in `...` if it did not fit.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Whether text was cut.
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl<const N: usize> Default for FmtBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for FmtBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.closed {
            return Ok(());
        }
        let room = self.cap - self.len;
        if s.len() <= room {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
            return Ok(());
        }
        // Keep what fits, cut at a character boundary, and end with "...".
        self.truncated = true;
        self.closed = true;
        let mut keep = room.min(s.len());
        while keep > 0 && !s.is_char_boundary(keep) {
            keep -= 1;
        }
        self.buf[self.len..self.len + keep].copy_from_slice(&s.as_bytes()[..keep]);
        self.len += keep;
        let dots = self.cap.min(3);
        self.len = self.len.max(dots);
        let mut cut = self.len - dots;
        while cut > 0 && (self.buf[cut] & 0xC0) == 0x80 {
            cut -= 1; // don't leave half a UTF-8 sequence before the dots
        }
        self.buf[cut..cut + dots].copy_from_slice(&b"..."[..dots]);
        self.len = cut + dots;
        Ok(())
    }
}

/// A `fmt::Write` target that collects text in `N` bytes on the stack and hands each full
/// buffer to `flush` (nothing is lost, nothing allocated). Call [`ChunkWriter::finish`]
/// at the end.
pub(crate) struct ChunkWriter<F: FnMut(&[u8]), const N: usize> {
    buf: [u8; N],
    len: usize,
    flush: F,
}

impl<F: FnMut(&[u8]), const N: usize> ChunkWriter<F, N> {
    pub(crate) fn new(flush: F) -> Self {
        ChunkWriter { buf: [0; N], len: 0, flush }
    }

    pub(crate) fn finish(mut self) {
        if self.len > 0 {
            (self.flush)(&self.buf[..self.len]);
        }
    }
}

impl<F: FnMut(&[u8]), const N: usize> fmt::Write for ChunkWriter<F, N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        while !rest.is_empty() {
            if self.len == N {
                (self.flush)(&self.buf);
                self.len = 0;
            }
            let n = rest.len().min(N - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&rest[..n]);
            self.len += n;
            rest = &rest[n..];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn fits_exactly() {
        let mut b = FmtBuf::<5>::new();
        let tail = "cde";
        write!(b, "ab{tail}").unwrap();
        assert_eq!(b.as_bytes(), b"abcde");
        assert!(!b.truncated());
    }

    #[test]
    fn truncates_with_dots_on_a_char_boundary() {
        let mut b = FmtBuf::<10>::new();
        write!(b, "héllo wörld and more").unwrap();
        assert!(b.truncated());
        assert!(b.as_bytes().ends_with(b"..."));
        assert!(std::str::from_utf8(b.as_bytes()).is_ok());
        assert!(b.as_bytes().len() <= 10);
        write!(b, "ignored").unwrap();
        assert!(b.as_bytes().ends_with(b"..."));
    }

    #[test]
    fn chunk_writer_loses_nothing() {
        let mut out = Vec::new();
        let mut w = ChunkWriter::<_, 4>::new(|c: &[u8]| out.push(c.to_vec()));
        let word = "abcdef";
        write!(w, "{word}-{}", 12345).unwrap();
        w.finish();
        assert_eq!(out.concat(), b"abcdef-12345");
        assert!(out.iter().all(|c| c.len() <= 4));
    }
}
