//! The handler binaries deploy to Lambda's `provided.al2023` unchanged: no glibc newer than Amazon Linux 2023's
//! 2.34, and no shared library outside glibc and libgcc. The test command (scripts/test, through
//! scripts/lambda-linker.sh) links the whole build the way `cargo lambda build` links Lambda artifacts, with zig
//! against an older glibc, so the binaries checked here are the ones every other test runs. (The release zips of
//! `cargo lambda build --release --output-format zip` are checked the same way by scripts/deploy-check.)

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
    let handlers = handler_binaries();
    assert_eq!(handlers.len(), 7, "the app has seven functions: {handlers:?}");
    if !linked_like_cargo_lambda(&handlers) {
        return;
    }
    for binary in &handlers {
        let needs = version_needs(binary);
        let glibc = needs.iter().filter_map(|(_, version)| glibc_version(version)).max().expect("needs glibc");
        println!("{}: glibc {}.{}", binary.display(), glibc.0, glibc.1);
        assert!(
            glibc <= AL2023_GLIBC,
            "{} needs glibc {}.{}, newer than Amazon Linux 2023's",
            binary.display(),
            glibc.0,
            glibc.1
        );
        for library in needed_libraries(binary) {
            assert!(
                BASE_LIBRARIES.contains(&library.as_str()),
                "{} needs {library}, absent on Lambda",
                binary.display()
            );
        }
    }
}

/// Whether the handlers were linked by zig, as cargo lambda links them (scripts/test sets this up), rather than by
/// the build machine's toolchain, whose C start files leave a `GCC:` mark in `.comment`. Under CI they must be.
fn linked_like_cargo_lambda(binaries: &[PathBuf]) -> bool {
    let host_linked: Vec<&PathBuf> = binaries.iter().filter(|b| comment(b).contains("GCC:")).collect();
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

/// The `.comment` section: which compilers and linker made the binary.
fn comment(binary: &Path) -> String {
    let data = std::fs::read(binary).expect("read the binary");
    let header = FileHeader64::<Endianness>::parse(&*data).expect("an ELF64 file");
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, &*data).unwrap();
    let comment =
        sections.section_by_name(endian, b".comment").map(|(_, s)| s.data(endian, &*data).unwrap_or_default());
    String::from_utf8_lossy(comment.unwrap_or_default()).replace('\0', "\n")
}

/// The handler crates' binaries (one per crate under handlers/, named after it), as the test command built them.
fn handler_binaries() -> Vec<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let mut binaries: Vec<PathBuf> = std::fs::read_dir(repo_root().join("handlers"))
        .expect("handlers/")
        .flatten()
        .filter(|entry| entry.path().join("src/main.rs").is_file())
        .map(|entry| target.join("debug").join(entry.file_name()))
        .collect();
    binaries.sort();
    for binary in &binaries {
        assert!(binary.is_file(), "{} is missing: run the README's test command (scripts/test)", binary.display());
    }
    binaries
}

/// `(library, version)` for every symbol version the binary needs (`.gnu.version_r`), e.g. `("libc.so.6", "GLIBC_2.17")`.
fn version_needs(binary: &Path) -> Vec<(String, String)> {
    let data = std::fs::read(binary).expect("read the binary");
    let header = FileHeader64::<Endianness>::parse(&*data).expect("an ELF64 file");
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, &*data).unwrap();
    let mut needs = Vec::new();
    for section in sections.iter() {
        let Some((mut verneeds, link)) = section.gnu_verneed(endian, &*data).unwrap() else { continue };
        let strings = sections.strings(endian, &*data, link).unwrap();
        while let Some((verneed, mut auxes)) = verneeds.next().unwrap() {
            let library = String::from_utf8_lossy(verneed.file(endian, strings).unwrap()).into_owned();
            while let Some(aux) = auxes.next().unwrap() {
                let version = String::from_utf8_lossy(aux.name(endian, strings).unwrap()).into_owned();
                needs.push((library.clone(), version));
            }
        }
    }
    needs
}

/// The `DT_NEEDED` libraries of the binary.
fn needed_libraries(binary: &Path) -> Vec<String> {
    let data = std::fs::read(binary).expect("read the binary");
    let header = FileHeader64::<Endianness>::parse(&*data).expect("an ELF64 file");
    let endian = header.endian().unwrap();
    let sections = header.sections(endian, &*data).unwrap();
    let mut libraries = Vec::new();
    for section in sections.iter() {
        let Some((entries, link)) = section.dynamic(endian, &*data).unwrap() else { continue };
        let strings = sections.strings(endian, &*data, link).unwrap();
        for entry in entries.iter().filter(|entry| entry.d_tag(endian) == object::elf::DT_NEEDED as u64) {
            let name = entry.string(endian, strings).unwrap();
            libraries.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    libraries
}

/// `GLIBC_2.34` → `(2, 34)`; other version names (`GCC_3.0`) → None.
fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
