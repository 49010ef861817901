//! The send path: the caller's messages and control frames, checked against the state and
//! the rules of RFC 6455 §5.4–§5.5, through the extensions, into the output queue.

use alloc::boxed::Box;

use bytes::Bytes;

use super::{Connection, MessageKind, Payload, PreparedMessage, Sending};
use crate::close::CloseCode;
use crate::error::SendError;
use crate::extensions::seam::EncodeError;
use crate::frame::output::{Body, Output, ZERO_COPY_MIN};
use crate::frame::{MAX_CONTROL_PAYLOAD, OpCode};
use crate::mask_source::MaskSource;
use crate::utf8::Utf8Validator;

/// The masking key for the next frame: none for a server; a client, which always has a key
/// source, draws one (RFC 6455 §5.3).
#[inline]
pub(super) fn masking_key(source: &mut Option<Box<dyn MaskSource + Send>>) -> Option<[u8; 4]> {
    source.as_mut().map(|s| s.mask_key())
}

/// Queues a Close frame with `code` and `reason` (RFC 6455 §5.5.1); 1005 is sent as an empty
/// Close.
pub(super) fn queue_close(
    out: &mut Output,
    masking_key: Option<[u8; 4]>,
    code: CloseCode,
    reason: &[u8],
) {
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    let len = if code == CloseCode::NO_STATUS {
        0
    } else {
        payload[..2].copy_from_slice(&code.0.to_be_bytes());
        payload[2..2 + reason.len()].copy_from_slice(reason);
        2 + reason.len()
    };
    out.push_frame(
        OpCode::Close,
        true,
        0,
        masking_key,
        Body::Borrowed(&payload[..len]),
    );
}

impl Connection {
    /// The masking key for the next frame we send.
    #[inline]
    pub(super) fn masking_key(&mut self) -> Option<[u8; 4]> {
        masking_key(&mut self.mask_source)
    }

    /// Sends a whole message as one frame.
    pub(super) fn send_message(
        &mut self,
        kind: MessageKind,
        data: Payload<'_>,
    ) -> Result<(), SendError> {
        self.lifecycle.check_data()?;
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let encoded = self
            .extensions
            .outbound_applies(Some(data.as_slice().len()));
        self.write_data_frame(kind.opcode(), true, true, encoded, data.0)
    }

    /// Sends a prepared message (see [`Connection::send_prepared`]).
    pub(super) fn send_prepared_message(
        &mut self,
        message: &PreparedMessage,
    ) -> Result<(), SendError> {
        self.lifecycle.check_data()?;
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let opcode = message.kind().opcode();
        let encoded =
            message.compressible() && self.extensions.outbound_applies(Some(message.len()));
        if !encoded {
            let key = self.masking_key();
            self.push_prepared(opcode, 0, key, message.frame(), message.header_len());
            return Ok(());
        }
        #[cfg(feature = "deflate")]
        if let Some(shared) = self.extensions.standalone_key() {
            let extensions = &self.extensions;
            let rsv = extensions.rsv();
            let frame = message
                .encoded(shared, rsv, |data, emit| {
                    extensions.encode_standalone(data, emit)
                })
                .map_err(|EncodeError| SendError::ExtensionFailed)?;
            let key = self.masking_key();
            self.push_prepared(opcode, rsv, key, &frame.frame, frame.header_len);
            return Ok(());
        }
        // The extension encodes with this connection's own state.
        self.write_data_frame(
            opcode,
            true,
            true,
            true,
            Body::Borrowed(message.payload_slice()),
        )
    }

    /// Queues a frame encoded beforehand (`header_len` bytes of header, then the payload): a
    /// server queues a large one as it is, by reference; anything else goes through the
    /// ordinary encoder (a client masks it; a short frame is cheaper to encode than to share).
    fn push_prepared(
        &mut self,
        opcode: OpCode,
        rsv: u8,
        key: Option<[u8; 4]>,
        frame: &Bytes,
        header_len: usize,
    ) {
        if key.is_none() && frame.len() >= ZERO_COPY_MIN {
            self.out.push_encoded(frame.clone());
        } else {
            let payload = Body::Borrowed(&frame[header_len..]);
            self.out.push_frame(opcode, true, rsv, key, payload);
        }
    }

    /// Sends one fragment of a message (see [`Connection::send_fragment`]).
    pub(super) fn send_fragment_of(
        &mut self,
        kind: MessageKind,
        data: Payload<'_>,
        fin: bool,
    ) -> Result<(), SendError> {
        self.lifecycle.check_data()?;
        let opcode = match &self.sending {
            None => kind.opcode(),
            Some(s) if s.kind != kind => return Err(SendError::FragmentKindMismatch),
            Some(_) => OpCode::Continuation,
        };
        let mut utf8 = self
            .sending
            .as_ref()
            .map_or_else(Utf8Validator::new, |s| s.utf8.clone());
        if kind == MessageKind::Text {
            utf8.feed(data.as_slice())
                .map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                utf8.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
        }
        let encoded = match &self.sending {
            None => self.extensions.outbound_applies(None),
            Some(s) => s.encoded,
        };
        let first = self.sending.is_none();
        self.write_data_frame(opcode, first, fin, encoded, data.0)?;
        self.sending = if fin {
            None
        } else {
            Some(Sending {
                kind,
                utf8,
                encoded,
            })
        };
        Ok(())
    }

    /// Queues a data frame, through the extension when `encoded`. Queues nothing on an error.
    #[inline(always)]
    fn write_data_frame(
        &mut self,
        opcode: OpCode,
        first: bool,
        fin: bool,
        encoded: bool,
        data: Body<'_>,
    ) -> Result<(), SendError> {
        // Drawn before the extension sees the data: a compressor's window must hold only
        // what is sent.
        let key = self.masking_key();
        if !encoded {
            self.out.push_frame(opcode, fin, 0, key, data);
            return Ok(());
        }
        self.write_encoded_frame(opcode, first, fin, key, data.as_slice())
    }

    /// [`write_data_frame`](Self::write_data_frame) through the extension (permessage-deflate:
    /// compressed), apart from the common path.
    #[inline(never)]
    fn write_encoded_frame(
        &mut self,
        opcode: OpCode,
        first: bool,
        fin: bool,
        key: Option<[u8; 4]>,
        data: &[u8],
    ) -> Result<(), SendError> {
        let Some(codec) = self.extensions.codec() else {
            self.out
                .push_frame(opcode, fin, 0, key, Body::Borrowed(data));
            return Ok(());
        };
        // RFC 7692 §6.1: the extension's bits go on the first frame of a message only.
        let rsv = if first { codec.rsv() } else { 0 };
        let out = &mut self.out;
        codec
            .outbound(data, fin, &mut |payload| {
                out.push_frame(opcode, fin, rsv, key, Body::Borrowed(payload));
            })
            .map_err(|EncodeError| SendError::ExtensionFailed)
    }

    /// Sends a Ping or Pong.
    pub(super) fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        self.lifecycle.check_control()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong);
        }
        let key = self.masking_key();
        self.out
            .push_frame(opcode, true, 0, key, Body::Borrowed(payload));
        Ok(())
    }

    /// Answers a Ping (RFC 6455 §5.5.2).
    pub(super) fn queue_auto_pong(&mut self, payload: &[u8]) {
        let key = self.masking_key();
        self.out.push_auto_pong(key, payload);
    }
}
