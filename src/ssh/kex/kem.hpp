// What a key encapsulation mechanism (mlkem768, sntrup761) hands out: the
// same two shapes for every KEM, so the hybrid key exchange
// (hybrid_kem.cpp) treats them alike.
#pragma once

#include "ssh/common.hpp"

namespace ssh::kex {

struct KemKeyPair {
  Bytes public_key;
  SecureBytes secret_key;
};

struct KemEncapsulation {
  Bytes ciphertext;
  SecureBytes shared_secret;
};

}  // namespace ssh::kex
