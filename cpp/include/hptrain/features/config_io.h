// FeatureConfig (config.h) read from TOML and written as HDF5 attributes: apart from the plain
// struct, so that toml++ and HDF5 reach only the libraries that read or write configs.
#pragma once

#include <string>

#include "hptrain/features/config.h"
#include "hptrain/toml_config.h"

namespace hptrain::h5 {
class File;
}

namespace hptrain::features {

// Reads sr, threads, optional `preset = "..."` (applied first), and the sub-tables [stft],
// [mel], [db], [mfcc], [delta], [chroma], [contrast], [zcr], [rms] (keys = field names);
// then validate().
void from_toml(const config::Section& s, FeatureConfig& cfg);
// Every parameter as an attribute of `object`, named as in the reference files (sr, n_fft,
// mel_norm, chroma_fb_norm, ...); booleans as 0/1, None as the string "None".
void write_attrs(h5::File& f, const std::string& object, const FeatureConfig& cfg);

}  // namespace hptrain::features
