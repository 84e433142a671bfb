// libFuzzer target: the SFTP server fed a client's byte stream (packets of
// any kind, in any order, cut anywhere), over the in-memory file system of
// the unit tests with a confined root, a file, a directory and symbolic
// links inside and outside the root. The first input byte picks read-only
// mode (bit 0) and how the stream is cut in two; replies are taken in small
// pieces so the output high-water mark pauses and resumes input decoding.
// Nothing outside the root may change (else abort).
#include <cstddef>
#include <cstdint>

#include "sftp/server.hpp"
#include "support/memory_file_system.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  testing_support::MemoryFileSystem fs;
  fs.add_directory("/srv/root/dir");
  fs.add_file("/srv/root/file", "inside");
  fs.add_link("/srv/root/up", "../secret");
  fs.add_link("/srv/root/abs", "/srv/secret");
  fs.add_file("/srv/secret", "outside");

  sftp::ServerOptions options;
  options.root = "/srv/root";
  options.user_name = "fuzz";
  options.read_only = (data[0] & 1) != 0;
  options.max_open_handles = 8;
  options.readdir_batch = 2;
  options.output_high_water = 4096;
  sftp::Server server(fs, options);

  const ssh::ByteView input(data + 1, size - 1);
  const std::size_t cut = input.empty() ? 0 : (std::size_t{data[0]} * 257) % (input.size() + 1);
  ssh::Bytes output;
  for (ssh::ByteView part : {input.subspan(0, cut), input.subspan(cut)}) {
    server.feed(part);
    for (int round = 0; round < 10000 && server.has_output(); ++round) {
      server.take_output(1024, output);
    }
  }
  server.feed_eof();
  while (server.has_output()) server.take_output(SIZE_MAX, output);
  // Outside the root nothing changed: the file, its mode, and /srv's names.
  const auto secret = fs.find("/srv/secret");
  const auto srv = fs.find("/srv");
  if (fs.content("/srv/secret") != "outside" || !secret || secret->permissions != 0644 || !srv ||
      srv->children.size() != 2) {
    __builtin_trap();
  }
  return 0;
}
