//! The handler binaries deploy to Lambda's `provided.al2023` unchanged: no glibc newer than Amazon Linux 2023's
//! 2.34, and no shared library outside glibc and libgcc. The test command (scripts/test, through
//! scripts/lambda-linker.sh) links the whole build the way `cargo lambda build` links Lambda artifacts, with zig
//! against an older glibc, so the binaries checked here are the ones every other test runs. (The release zips of
//! `cargo lambda build --release --output-format zip` are checked the same way by scripts/deploy-check.)

use ftb_offline::config::{self, LoadOptions};
use ftb_offline_tests::repo_root;
use object::elf::FileHeader64;
use object::read::elf::{Dyn, FileHeader, SectionHeader};
use object::Endianness;
use std::path::{Path, PathBuf};

/// Amazon Linux 2023's glibc, the newest a `provided.al2023` bootstrap may need.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// Libraries every Lambda runtime image has: glibc's and libgcc_s.
const BASE_LIBRARIES: [&str; 8] = [
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "librt.so.1",
    "libpthread.so.0",
    "libutil.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
];

#[test]
fn handler_binaries_run_on_provided_al2023() {
    let handlers: Vec<LinkFacts> = handler_binaries().iter().map(|binary| LinkFacts::read(binary)).collect();
    if !linked_like_cargo_lambda(&handlers) {
        return;
    }
    for handler in &handlers {
        let binary = handler.binary.display();
        let glibc = handler.versions.iter().filter_map(|version| glibc_version(version)).max().expect("needs glibc");
        println!("{binary}: glibc {}.{}", glibc.0, glibc.1);
        assert!(glibc <= AL2023_GLIBC, "{binary} needs glibc {}.{}, newer than Amazon Linux 2023's", glibc.0, glibc.1);
        for library in &handler.libraries {
            assert!(BASE_LIBRARIES.contains(&library.as_str()), "{binary} needs {library}, absent on Lambda");
        }
    }
}

/// Whether the handlers were linked by zig, as cargo lambda links them (scripts/test sets this up), rather than by
/// the build machine's toolchain, whose C start files leave a `GCC:` mark in `.comment`. Under CI they must be.
fn linked_like_cargo_lambda(handlers: &[LinkFacts]) -> bool {
    let host_linked: Vec<&PathBuf> =
        handlers.iter().filter(|h| h.comment.contains("GCC:")).map(|h| &h.binary).collect();
    if host_linked.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{host_linked:?} were linked by the build machine's toolchain, not the way cargo lambda links them: \
         run the README's test command (scripts/test), which sources scripts/lambda-linker.sh"
    );
    eprintln!("skipped outside CI: the handlers were linked by the host toolchain; scripts/test links them as cargo lambda does");
    false
}

/// The binary of each function in the app's serverless.yml (the folder of its cargo-lambda artifact), as the test
/// command built them.
fn handler_binaries() -> Vec<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let options = LoadOptions::default();
    let service = config::load(&repo_root().join("serverless.yml"), &options).expect("the app's serverless.yml");
    assert!(service.functions.len() >= 7, "the app's functions were read from serverless.yml");
    let mut binaries: Vec<PathBuf> = service
        .functions
        .values()
        .map(|function| {
            let binary = function.binary_name().unwrap_or_else(|| panic!("{} names no binary", function.key));
            target.join("debug").join(binary)
        })
        .collect();
    binaries.sort();
    binaries.dedup();
    assert_eq!(binaries.len(), service.functions.len(), "each function has its own binary");
    for binary in &binaries {
        assert!(binary.is_file(), "{} is missing: run the README's test command (scripts/test)", binary.display());
    }
    binaries
}

/// What the dynamic loader will ask of the system for one binary, and who linked it.
struct LinkFacts {
    binary: PathBuf,
    /// Every symbol version the binary needs (`.gnu.version_r`), e.g. `GLIBC_2.17`.
    versions: Vec<String>,
    /// The `DT_NEEDED` libraries.
    libraries: Vec<String>,
    /// The `.comment` section: which compilers and linker made the binary.
    comment: String,
}

impl LinkFacts {
    fn read(binary: &Path) -> Self {
        let data = std::fs::read(binary).expect("read the binary");
        let header = FileHeader64::<Endianness>::parse(&*data).expect("an ELF64 file");
        let endian = header.endian().unwrap();
        let sections = header.sections(endian, &*data).unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let (mut versions, mut libraries) = (Vec::new(), Vec::new());
        for section in sections.iter() {
            if let Some((mut verneeds, link)) = section.gnu_verneed(endian, &*data).unwrap() {
                let strings = sections.strings(endian, &*data, link).unwrap();
                while let Some((_, mut auxes)) = verneeds.next().unwrap() {
                    while let Some(aux) = auxes.next().unwrap() {
                        versions.push(text(aux.name(endian, strings).unwrap()));
                    }
                }
            }
            if let Some((entries, link)) = section.dynamic(endian, &*data).unwrap() {
                let strings = sections.strings(endian, &*data, link).unwrap();
                for entry in entries.iter().filter(|entry| entry.d_tag(endian) == object::elf::DT_NEEDED as u64) {
                    libraries.push(text(entry.string(endian, strings).unwrap()));
                }
            }
        }
        let comment = sections
            .section_by_name(endian, b".comment")
            .map(|(_, section)| text(section.data(endian, &*data).unwrap_or_default()).replace('\0', "\n"))
            .unwrap_or_default();
        Self { binary: binary.to_path_buf(), versions, libraries, comment }
    }
}

/// `GLIBC_2.34` → `(2, 34)`; other version names (`GCC_3.0`) → None.
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
