//! The decoded form of a frame: a packet holds layers, a layer holds fields.
//!
//! Fields are kept in one flat vector per layer, each with a nesting depth, so that building a
//! tree costs one push per field and no boxes; the tree renderer indents by depth.

use std::fmt;

/// Where the bytes of a field or layer lie in the frame: `start..end`, offsets from the frame's
/// first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` of `len` bytes.
    pub fn at(start: usize, len: usize) -> Span {
        let s = u32::try_from(start).unwrap_or(u32::MAX);
        let e = u32::try_from(start.saturating_add(len)).unwrap_or(u32::MAX);
        Span { start: s, end: e }
    }
}

/// Text assembled by the decoders (a layer's summary). It is UTF-8 kept as bytes, so that
/// numbers and addresses append as plain bytes rather than character by character; it reads
/// as a `str` (`Deref`, `Display`, [`Text::as_str`]). Only `str` pieces and ASCII go in.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Text(Vec<u8>);

impl Text {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only `str` pieces and ASCII are ever appended, so this always succeeds.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The text as bytes (what the one-line renderer copies).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// True when there is no text.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Empties the text, keeping its storage.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Appends a string.
    pub fn push_str(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// The byte buffer, for the writers of [`crate::fmtx`] (which append only ASCII and `str`).
    pub(crate) fn bytes_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(s.into_bytes())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(s.as_bytes().to_vec())
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A field's value, typed where the type matters to filters and renderers.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A field that only groups children.
    None,
    /// An unsigned number.
    U(u64),
    /// An unsigned number best shown in hexadecimal.
    Hex(u64),
    /// A yes/no flag.
    Bool(bool),
    /// A fixed name (from a table).
    Name(&'static str),
    /// A number together with its name from a table, shown as `name (n)`.
    Coded(u64, &'static str),
    /// A number shown in hexadecimal with its name, as `name (0xn)` (Ethernet types).
    HexCoded(u64, &'static str),
    /// Free text taken from the frame or composed by a decoder.
    Text(String),
    /// Raw bytes, shown as hex.
    Bytes(Vec<u8>),
    /// An Ethernet address.
    Mac([u8; 6]),
    /// An IPv4 address.
    Ip4([u8; 4]),
    /// An IPv6 address.
    Ip6([u8; 16]),
    /// A DECnet Phase IV address (`area*1024 + node`).
    Dn(u16),
    /// A DECnet routing entry: node or area id and the routing word (cost in bits 0-9, hops in
    /// bits 10-14), shown as `id: cost C hops H`.
    Route(u16, u16),
    // The kinds below are shown as text (JSON too); they are kept typed so that decoding
    // builds no string: rendering builds it when asked.
    /// A signed number (shown as text, as [`Value::Text`] would hold it).
    Int(i64),
    /// A checksum or CRC and whether it is right, shown as `0x1234 [correct]` or
    /// `[incorrect]`.
    Check(u16, bool),
    /// TCP flags, shown as `0x018 PSH,ACK` (the bits, then the names of those set).
    TcpFlags(u16),
    /// A TCP time stamps option's values, shown as `val V ecr E`.
    Stamps(u32, u32),
    /// A version number of three parts, shown as `4.0.0`.
    Version([u8; 3]),
    /// A range of DECnet node or area ids (a routing message's segment), first and last,
    /// shown as `ids 1-1023`.
    Ids(u16, u32),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => Ok(()),
            Value::U(n) => write!(f, "{n}"),
            Value::Hex(n) => write!(f, "0x{n:x}"),
            Value::Bool(b) => f.write_str(if *b { "Y" } else { "N" }),
            Value::Name(s) => f.write_str(s),
            Value::Coded(n, s) => write!(f, "{s} ({n})"),
            Value::HexCoded(n, s) => write!(f, "{s} (0x{n:04x})"),
            Value::Text(s) => f.write_str(s),
            Value::Bytes(b) => {
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
            Value::Mac(m) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut b = [b':'; 17];
                for (i, x) in m.iter().enumerate() {
                    if let (Some(hi), Some(lo)) = (b.get_mut(3 * i), HEX.get(usize::from(x >> 4))) {
                        *hi = *lo;
                    }
                    if let (Some(hi), Some(lo)) =
                        (b.get_mut(3 * i + 1), HEX.get(usize::from(x & 15)))
                    {
                        *hi = *lo;
                    }
                }
                f.write_str(std::str::from_utf8(&b).unwrap_or("??:??:??:??:??:??"))
            }
            Value::Ip4(a) => write!(f, "{}", std::net::Ipv4Addr::from(*a)),
            Value::Ip6(a) => write!(f, "{}", std::net::Ipv6Addr::from(*a)),
            Value::Dn(a) => write!(f, "{}.{}", a >> 10, a & 0x3ff),
            Value::Route(id, w) => write!(f, "{id}: cost {} hops {}", w & 0x3ff, (w >> 10) & 0x1f),
            Value::Int(n) => write!(f, "{n}"),
            Value::Check(v, good) => write!(
                f,
                "0x{v:04x} [{}]",
                if *good { "correct" } else { "incorrect" }
            ),
            Value::TcpFlags(flags) => {
                write!(f, "0x{flags:03x} ")?;
                let mut first = true;
                for (m, _, n) in crate::ip::TCP_FLAGS {
                    if flags & m != 0 {
                        if !first {
                            f.write_str(",")?;
                        }
                        first = false;
                        f.write_str(n)?;
                    }
                }
                Ok(())
            }
            Value::Stamps(v, e) => write!(f, "val {v} ecr {e}"),
            Value::Version(v) => write!(f, "{}.{}.{}", v[0], v[1], v[2]),
            Value::Ids(a, b) => write!(f, "ids {a}-{b}"),
        }
    }
}

/// One named field of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Display name (seed 002's parameter names for the DECnet family).
    pub name: &'static str,
    /// The value.
    pub value: Value,
    /// The bytes it came from.
    pub span: Span,
    /// Nesting depth within the layer (0 = top).
    pub depth: u8,
}

/// One protocol layer of a packet.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Layer {
    /// Protocol name as filters and summaries know it (`eth`, `ip`, `rp`, `nsp`, `mop`, ...).
    pub proto: &'static str,
    /// The message type in seed 002's words (`Level 1 hello`, `connect init`), if any.
    pub msg: Option<&'static str>,
    /// A one-line summary in tcpdump's manner.
    pub summary: Text,
    /// The bytes of the layer (header and what it carries).
    pub span: Span,
    /// The fields, in wire order, flat with depths.
    pub fields: Vec<Field>,
    /// Set when the layer is truncated or malformed: what went wrong. Fields before it decoded.
    pub malformed: Option<String>,
    depth: u8,
    /// [`Layer::add`] keeps no fields (see [`crate::Detail`]).
    quiet: bool,
    /// No summary text is written (see [`crate::Detail`]).
    pub(crate) nosum: bool,
    /// Fields added by [`Layer::add_text`] or [`Layer::add_bytes`] since the last clear: when
    /// none, [`Packet::clear`] has no buffers to take back.
    pooled: bool,
    /// Buffers of text and byte values cleared from this layer's fields, reused by the next
    /// ones: a field's text then costs no allocation once the layer has been used a while.
    pool: Pool,
}

/// The most buffers a layer keeps for reuse (a frame's layer rarely holds more text fields).
const POOL_MAX: usize = 32;

/// Cleared buffers of a layer (see [`Layer::add_text`]); not part of what the layer is, so
/// equal whatever they hold. Boxed so that the layer stays small enough to move without a
/// `memcpy` call (layers move into and out of the packet's vectors for every frame).
/// (One pointer in the layer instead of a vector's three words is the point of the box.)
#[allow(clippy::box_collection)]
#[derive(Clone, Debug, Default)]
struct Pool(Option<Box<Vec<Vec<u8>>>>);

impl Pool {
    /// A cleared buffer, or a new one.
    #[inline]
    fn take(&mut self) -> Vec<u8> {
        self.0.as_mut().and_then(|p| p.pop()).unwrap_or_default()
    }
}

impl PartialEq for Pool {
    fn eq(&self, _: &Pool) -> bool {
        true
    }
}

impl Layer {
    /// A new empty layer for `proto` covering `span`.
    pub fn new(proto: &'static str, span: Span) -> Layer {
        Layer {
            proto,
            span,
            ..Layer::default()
        }
    }

    /// A writer that replaces the summary (does nothing when the layer keeps no summary).
    pub(crate) fn sum(&mut self) -> crate::fmtx::W<'_> {
        if self.nosum {
            crate::fmtx::W(None)
        } else {
            self.summary.clear();
            crate::fmtx::W(Some(self.summary.bytes_mut()))
        }
    }

    /// A writer that appends to the summary (does nothing when the layer keeps no summary).
    pub(crate) fn sum_more(&mut self) -> crate::fmtx::W<'_> {
        if self.nosum {
            crate::fmtx::W(None)
        } else {
            crate::fmtx::W(Some(self.summary.bytes_mut()))
        }
    }

    /// True when [`Layer::add`] keeps no fields: callers skip building values nobody keeps.
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// Adds a field at the current depth. Always inlined: when the layer keeps no fields the
    /// value is then never built.
    #[inline(always)]
    pub fn add(&mut self, name: &'static str, value: Value, start: usize, len: usize) {
        if self.quiet {
            return;
        }
        self.fields.push(Field {
            name,
            value,
            span: Span::at(start, len),
            depth: self.depth,
        });
    }

    /// A field at the current depth, for [`Layer::add_all`].
    #[inline(always)]
    pub(crate) fn make(&self, name: &'static str, value: Value, start: usize, len: usize) -> Field {
        Field {
            name,
            value,
            span: Span::at(start, len),
            depth: self.depth,
        }
    }

    /// Adds the fields of a fixed header in one extension of the vector (one check for room
    /// rather than a push each). Callers skip building them when [`Layer::quiet`].
    #[inline(always)]
    pub(crate) fn add_all<const N: usize>(&mut self, fields: [Field; N]) {
        if self.quiet {
            return;
        }
        self.fields.extend(fields);
    }

    /// Adds a field whose value costs something to build (text, bytes): built only when the
    /// layer keeps fields.
    #[inline]
    pub(crate) fn add_lazy(
        &mut self,
        name: &'static str,
        value: impl FnOnce() -> Value,
        start: usize,
        len: usize,
    ) {
        if self.quiet {
            return;
        }
        self.fields.push(Field {
            name,
            value: value(),
            span: Span::at(start, len),
            depth: self.depth,
        });
    }

    /// Adds a field whose value is text written by `f` (as [`crate::fmtx::W`] writes it),
    /// into a buffer reused from an earlier frame: no allocation and no `core::fmt` once the
    /// layer has been used a while. Nothing is written when the layer keeps no fields.
    #[inline]
    pub(crate) fn add_text(
        &mut self,
        name: &'static str,
        start: usize,
        len: usize,
        f: impl FnOnce(crate::fmtx::W<'_>),
    ) {
        if self.quiet {
            return;
        }
        let mut b = self.pool.take();
        f(crate::fmtx::W(Some(&mut b)));
        // The writers append only `str` pieces and ASCII, so this is always `Ok`.
        let value = match String::from_utf8(b) {
            Ok(t) => Value::Text(t),
            Err(e) => Value::Text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        };
        self.pooled = true;
        self.fields.push(Field {
            name,
            value,
            span: Span::at(start, len),
            depth: self.depth,
        });
    }

    /// Adds a field of raw bytes copied from `b`, into a reused buffer (see
    /// [`Layer::add_text`]).
    #[inline]
    pub(crate) fn add_bytes(&mut self, name: &'static str, b: &[u8], start: usize, len: usize) {
        if self.quiet {
            return;
        }
        let mut v = self.pool.take();
        v.extend_from_slice(b);
        self.pooled = true;
        self.fields.push(Field {
            name,
            value: Value::Bytes(v),
            span: Span::at(start, len),
            depth: self.depth,
        });
    }

    /// A `Routing entry` field ([`Value::Route`]) for each little-endian word of `words`
    /// (an odd last byte is left out), at `at` onwards, the ids counting up from `first`
    /// (at most `u16::MAX`): the routing messages' hundreds of entries in one extension of
    /// the vector rather than a push each.
    pub(crate) fn add_routes(&mut self, first: u32, words: &[u8], at: usize) {
        if self.quiet {
            return;
        }
        let depth = self.depth;
        let n = words.len() / 2;
        // The usual case, ids and offsets far from their limits: plain counting.
        let first16 = u16::try_from(first).ok();
        let at32 = u32::try_from(at).ok();
        if let (Some(id0), Some(s0)) = (first16, at32) {
            let fits_ids = usize::from(id0) + n <= usize::from(u16::MAX);
            let fits_span = (s0 as usize) + 2 * n + 2 <= u32::MAX as usize;
            if fits_ids && fits_span {
                self.fields
                    .extend(words.chunks_exact(2).zip(0u16..).map(move |(c, i)| {
                        let s = s0.wrapping_add(2 * u32::from(i));
                        Field {
                            name: "Routing entry",
                            value: Value::Route(
                                id0.wrapping_add(i),
                                u16::from_le_bytes([
                                    c.first().copied().unwrap_or(0),
                                    c.get(1).copied().unwrap_or(0),
                                ]),
                            ),
                            span: Span {
                                start: s,
                                end: s.wrapping_add(2),
                            },
                            depth,
                        }
                    }));
                return;
            }
        }
        // Ids and offsets counted in 32 bits, saturating as `Span::at` and the `u16` id do.
        let (mut id, mut s) = (first, at32.unwrap_or(u32::MAX));
        self.fields.extend(words.chunks_exact(2).map(|c| {
            let f = Field {
                name: "Routing entry",
                value: Value::Route(
                    u16::try_from(id).unwrap_or(u16::MAX),
                    <[u8; 2]>::try_from(c).map_or(0, u16::from_le_bytes),
                ),
                span: Span {
                    start: s,
                    end: s.saturating_add(2),
                },
                depth,
            };
            id = id.saturating_add(1);
            s = s.saturating_add(2);
            f
        }));
    }

    /// Empties the fields, keeping the buffers of text and byte values for reuse.
    fn clear_fields(&mut self) {
        if !self.pooled {
            self.fields.clear();
            return;
        }
        self.pooled = false;
        let pool = self.pool.0.get_or_insert_with(Box::default);
        for f in self.fields.drain(..) {
            let mut b = match f.value {
                Value::Text(t) => t.into_bytes(),
                Value::Bytes(b) => b,
                _ => continue,
            };
            if pool.len() < POOL_MAX && b.capacity() <= 4096 {
                b.clear();
                pool.push(b);
            }
        }
    }

    /// Adds a field and makes the following fields its children until [`Layer::close`].
    pub fn open(&mut self, name: &'static str, value: Value, start: usize, len: usize) {
        self.add(name, value, start, len);
        self.depth = self.depth.saturating_add(1);
    }

    /// Ends the children of the last [`Layer::open`] group.
    pub fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Marks the layer malformed (the first reason wins).
    pub fn mark(&mut self, why: impl Into<String>) {
        if self.malformed.is_none() {
            self.malformed = Some(why.into());
        }
    }

    /// The first field with this name, at any depth.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The value of the first field with this name.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.field(name).map(|f| &f.value)
    }

    /// The numeric value (U, Hex, Coded, Dn) of the first field with this name.
    pub fn num(&self, name: &str) -> Option<u64> {
        match self.value(name)? {
            Value::U(n) | Value::Hex(n) | Value::Coded(n, _) | Value::HexCoded(n, _) => Some(*n),
            Value::Dn(a) => Some(u64::from(*a)),
            Value::Bool(b) => Some(u64::from(*b)),
            _ => None,
        }
    }
}

/// A decoded frame.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Packet {
    /// Frame number, from 1.
    pub number: u64,
    /// Capture time: seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Capture time: nanoseconds within the second.
    pub ts_nsec: u32,
    /// Length of the frame on the wire.
    pub orig_len: u32,
    /// Bytes captured.
    pub cap_len: u32,
    /// The layers, outermost first. A frame carrying several messages (a TCP segment with
    /// several Multinet records) holds one chain of layers per message, in order.
    pub layers: Vec<Layer>,
    spare: Spare,
    quiet: bool,
    nosum: bool,
    /// Layers written straight to the line by the one-line fast path ([`crate::line`]) and
    /// so not in `layers`: they count towards the nesting limit all the same.
    pub(crate) hidden: usize,
}

/// Cleared layers kept for reuse by [`Packet::new_layer`] (their vectors keep their capacity).
#[derive(Clone, Debug, Default)]
struct Spare(Vec<Layer>);

impl PartialEq for Spare {
    fn eq(&self, _: &Spare) -> bool {
        true
    }
}

impl Packet {
    /// A layer for `proto` covering `span`, reusing a cleared one when the packet has one.
    pub fn new_layer(&mut self, proto: &'static str, span: Span) -> Layer {
        match self.spare.0.pop() {
            Some(mut l) => {
                l.proto = proto;
                l.span = span;
                l.quiet = self.quiet;
                l.nosum = self.nosum;
                l
            }
            None => {
                let mut l = Layer::new(proto, span);
                l.fields.reserve(16);
                l.quiet = self.quiet;
                l.nosum = self.nosum;
                l
            }
        }
    }

    /// Sets what layers made from now on keep: fields (`quiet` false) and summaries
    /// (`nosum` false).
    pub(crate) fn set_detail(&mut self, quiet: bool, nosum: bool) {
        self.quiet = quiet;
        self.nosum = nosum;
    }

    /// Empties the packet for reuse, keeping its layers' storage.
    pub fn clear(&mut self) {
        for l in &mut self.layers {
            l.clear_fields();
            l.summary.clear();
            l.msg = None;
            l.malformed = None;
            l.depth = 0;
        }
        // The cleared layers join the spares in one copy; both vectors keep their capacity.
        self.spare.0.append(&mut self.layers);
        self.hidden = 0;
        self.number = 0;
        self.ts_sec = 0;
        self.ts_nsec = 0;
        self.orig_len = 0;
        self.cap_len = 0;
    }

    /// True when any layer is malformed or truncated.
    pub fn is_malformed(&self) -> bool {
        self.layers.iter().any(|l| l.malformed.is_some())
    }

    /// The first layer of this protocol.
    pub fn layer(&self, proto: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.proto == proto)
    }

    /// True when a layer of this protocol is present.
    pub fn has(&self, proto: &str) -> bool {
        self.layer(proto).is_some()
    }
}
