//! Tests: the shared captures against their reference decodes, frames built from the
//! specifications' layouts, filters, summaries, capture formats, and properties.

mod captures;
mod fast;
mod frames;
mod frames2;
mod golden;
mod misc;
mod props;
mod stream;
