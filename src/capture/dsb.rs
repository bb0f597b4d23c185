//! TLS secrets stored in a pcapng file (Decryption Secrets Blocks of type `TLSK`,
//! 0x544c534b, as `editcap --inject-secrets tls,KEYS` writes them). libpcap skips these
//! blocks, so the file is read once more, block by block, for them alone.

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError, PcapNGReader};
use std::path::Path;

/// `TLSK`: the secrets are NSS key log text.
const TLS_KEY_LOG: u32 = 0x544c_534b;
/// Most secret bytes taken from one file (a key log of this size holds millions of lines).
const MAX_SECRETS: usize = 256 << 20;

/// The key log text of every TLS Decryption Secrets Block of a pcapng file, in file order;
/// empty for a classic pcap, a damaged file or one without such blocks.
pub fn tls_secrets(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let Ok(mut file) = std::fs::File::open(path) else {
        return out;
    };
    let mut magic = [0u8; 4];
    if std::io::Read::read_exact(&mut file, &mut magic).is_err()
        || magic != [0x0a, 0x0d, 0x0d, 0x0a]
    {
        return out;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return out;
    };
    let Ok(mut reader) = PcapNGReader::new(1 << 20, file) else {
        return out;
    };
    let mut stalled = 0u32;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                stalled = 0;
                if let PcapBlockOwned::NG(Block::DecryptionSecrets(d)) = block
                    && d.secrets_type.0 == TLS_KEY_LOG
                    && out.len() + d.data.len() <= MAX_SECRETS
                {
                    // `data` is padded to 32 bits: only `secrets_len` bytes are secrets.
                    let n = (d.secrets_len as usize).min(d.data.len());
                    out.extend_from_slice(&d.data[..n]);
                    out.push(b'\n');
                }
                reader.consume(offset);
            }
            Err(PcapError::Incomplete(_)) if stalled < 2 => {
                stalled += 1;
                if reader.refill().is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    out
}
