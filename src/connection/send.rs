//! The send path: data and control frames into the output queue, masked for a client,
//! compressed when permessage-deflate applies.

use super::event::PayloadInner;
use super::{Connection, Payload};
use crate::close::CloseCode;
use crate::error::SendError;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode};
use crate::negotiated::Role;

impl Connection {
    /// Data frames may be sent: the connection is open and our Close is not sent.
    pub(super) fn check_data_allowed(&self) -> Result<(), SendError> {
        if self.close.closed {
            Err(SendError::Closed)
        } else if self.close.sent {
            Err(SendError::CloseSent)
        } else {
            Ok(())
        }
    }

    /// Sends a whole message as one frame.
    pub(super) fn send_message(
        &mut self,
        opcode: OpCode,
        data: Payload<'_>,
    ) -> Result<(), SendError> {
        self.check_data_allowed()?;
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        #[cfg(feature = "deflate")]
        let compressed = self.compresses(data.as_slice().len());
        #[cfg(not(feature = "deflate"))]
        let compressed = false;
        self.write_data_frame(opcode, true, true, compressed, data)
    }

    /// Queues a data frame, compressed (permessage-deflate) or not.
    pub(super) fn write_data_frame(
        &mut self,
        opcode: OpCode,
        first: bool,
        fin: bool,
        compressed: bool,
        data: Payload<'_>,
    ) -> Result<(), SendError> {
        #[cfg(feature = "deflate")]
        if compressed {
            return self.write_compressed(opcode, first, fin, data.as_slice());
        }
        let _ = (first, compressed);
        self.write_frame(opcode, fin, 0, data)
    }

    /// Without permessage-deflate, fragmented messages are never compressed.
    #[cfg(not(feature = "deflate"))]
    pub(super) fn compresses_fragments(&self) -> bool {
        false
    }

    /// Sends a Ping or Pong.
    pub(super) fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if self.close.closed {
            return Err(SendError::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong);
        }
        self.write_frame(opcode, true, 0, payload.into())
    }

    /// Queues our Close frame.
    pub(super) fn write_close(&mut self, code: CloseCode, reason: &[u8]) -> Result<(), SendError> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = if code == CloseCode::NO_STATUS {
            0
        } else {
            payload[..2].copy_from_slice(&code.0.to_be_bytes());
            payload[2..2 + reason.len()].copy_from_slice(reason);
            2 + reason.len()
        };
        self.write_frame(OpCode::Close, true, 0, payload[..len].into())?;
        self.close.sent = true;
        Ok(())
    }

    /// Queues one frame with the RSV bits `rsv`. Fails (queuing nothing) only if a client has
    /// no mask source.
    pub(super) fn write_frame(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
        payload: Payload<'_>,
    ) -> Result<(), SendError> {
        let masking_key = match self.role {
            Role::Server => None,
            Role::Client => Some(
                self.mask_source
                    .as_mut()
                    .ok_or(SendError::NoMaskSource)?
                    .mask_key(),
            ),
        };
        let len = payload.as_slice().len();
        if masking_key.is_none() && len <= MAX_CONTROL_PAYLOAD {
            // The commonest frame a server sends: a 2-byte header and a short payload.
            let b0 = (u8::from(fin) << 7) | ((rsv & 0b111) << 4) | opcode.as_u8();
            self.out
                .push_short_frame([b0, len as u8], payload.as_slice());
            return Ok(());
        }
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            masking_key,
            payload_len: len as u64,
        };
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut buf);
        self.out.push_slice(&buf[..n]);
        match (masking_key, payload.0) {
            (Some(key), inner) => {
                let data = match &inner {
                    PayloadInner::Borrowed(b) => *b,
                    PayloadInner::Shared(b) => &b[..],
                };
                self.out.push_masked(data, key);
            }
            (None, PayloadInner::Shared(bytes)) => self.out.push_shared(bytes),
            (None, PayloadInner::Borrowed(bytes)) => self.out.push_slice(bytes),
        }
        Ok(())
    }

    /// Answers a Ping; past `MAX_UNSENT_PONGS` waiting, replaces the last one not started.
    pub(super) fn queue_auto_pong(&mut self, payload: &[u8]) {
        self.out.make_room_for_pong();
        let at = self.out.end();
        if self
            .write_frame(OpCode::Pong, true, 0, payload.into())
            .is_ok()
        {
            self.out.pong_queued(at);
        }
    }
}
