/// Declares a C-like enum over an integer field type with a catch-all `Unknown(raw)` variant, and
/// the lossless conversions both ways. `From<raw>` always yields the named variant when one exists,
/// so `Unknown` never holds a named value when built through `From`.
macro_rules! enum_with_unknown {
    (
        $(#[$meta:meta])*
        pub enum $name:ident($ty:ty) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value with no name here, kept raw.
            Unknown($ty),
        }

        impl From<$ty> for $name {
            fn from(value: $ty) -> Self {
                match value {
                    $( x if x == $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

/// Declares a transport-layer view `$name<T: AsRef<[u8]>>` (UDP, TCP) and what such views share:
/// the constructors, the ports at offsets 0 and 2, the checksum field at `field::CHECKSUM` of the
/// calling module, and the two pseudo-header primitives the protocol's checksum methods are built
/// on (`pseudo_sum` and `store_pseudo_header`). The protocol's own module keeps what differs:
/// which bytes and which length the checksum covers, and UDP's zero-means-none rule.
macro_rules! transport_view {
    (
        $(#[$meta:meta])*
        pub struct $name:ident, protocol: $proto:expr
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checks.
            pub const fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// The wrapped buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            /// Source port.
            pub fn src_port(&self) -> u16 {
                $crate::get_u16(self.buffer.as_ref(), field::SRC_PORT)
            }

            /// Destination port.
            pub fn dst_port(&self) -> u16 {
                $crate::get_u16(self.buffer.as_ref(), field::DST_PORT)
            }

            /// The checksum field.
            pub fn checksum(&self) -> u16 {
                $crate::get_u16(self.buffer.as_ref(), field::CHECKSUM)
            }

            /// The folded one's-complement sum of the pseudo-header (with length `len`) and
            /// `data`: 0xffff when a received checksum verifies, the complement of the checksum
            /// to send when the field is zero.
            fn pseudo_sum(
                src: ::std::net::Ipv4Addr,
                dst: ::std::net::Ipv4Addr,
                len: u16,
                data: &[u8],
            ) -> u16 {
                let ph = $crate::checksum::pseudo_header(src, dst, $proto.into(), len);
                $crate::checksum::combine(&[ph, $crate::checksum::sum(data)])
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            /// Sets the source port.
            pub fn set_src_port(&mut self, v: u16) {
                $crate::put_u16(self.buffer.as_mut(), field::SRC_PORT, v)
            }

            /// Sets the destination port.
            pub fn set_dst_port(&mut self, v: u16) {
                $crate::put_u16(self.buffer.as_mut(), field::DST_PORT, v)
            }

            /// Sets the checksum field.
            pub fn set_checksum(&mut self, v: u16) {
                $crate::put_u16(self.buffer.as_mut(), field::CHECKSUM, v)
            }

            /// Stores the pseudo-header sum for length `len` (not inverted) in the checksum
            /// field, as checksum offload expects: the device sums header and data over it.
            fn store_pseudo_header(
                &mut self,
                src: ::std::net::Ipv4Addr,
                dst: ::std::net::Ipv4Addr,
                len: u16,
            ) {
                let ph = $crate::checksum::pseudo_header(src, dst, $proto.into(), len);
                self.set_checksum(ph);
            }
        }
    };
}
