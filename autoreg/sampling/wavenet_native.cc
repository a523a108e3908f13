// WaveNet generation on the CPU as one XLA FFI call per chunk of samples (see wavenet_native.py).
//
// The XLA path (wavenet_queues.py) runs each time step as ~60 small XLA operations, whose fixed
// cost per operation, not arithmetic, sets the speed at batch 1. Here a chunk of time steps runs
// in one C++ loop: per step and example, the causal input convolution (table lookups), every
// dilated layer (one product of [h[t - d], h[t]] with the layer's kernel, the gate, the residual
// and skip product), the output head and the Gumbel-max draw. The per-layer history h[t - d]
// lives in ring buffers that the call reads and writes in place (aliased to its outputs), so the
// state does not grow with the output length. Examples of a batch run side by side within each
// layer, in groups whose accumulators stay in registers, so a layer's weights are read once per
// step for a group; the batch is split over the machine's cores (examples are independent).
//
// The arithmetic is the model's (same operations in float32), with sums taken in another order
// and tanh / sigmoid from a polynomial exp, so logits equal the XLA path's to float rounding;
// the Gumbel noise is the XLA path's own (an input), and the draw is the ancestral rule's
// (``draw_with_noise``: the first NaN, else the first maximum), so samples are equal unless two
// noisy logits tie within rounding (tested equal).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// exp(x) for float32 by range reduction and a degree-6 polynomial (Cephes' expf coefficients);
// written without branches so that the compiler vectorises the loops that call it.
inline float exp_approx(float x) {
  x = std::min(88.0f, std::max(-88.0f, x));
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }

inline float tanh_approx(float x) { return 1.0f - 2.0f / (1.0f + exp_approx(2.0f * x)); }

// out[b, o] += sum_i in[b, i] * w[i, o] for B rows; w is (I, O) row-major. Columns go in
// tiles of TILE and examples in groups of up to GROUP, whose accumulators stay in registers
// while the weight rows stream past once for the whole group.
// (examples per group, columns per tile): 16 AVX-512 registers of accumulators, or 8 for one.
constexpr int GROUP = 8, GROUP_TILE = 32, HALF = 4, HALF_TILE = 64, SINGLE_TILE = 128;

template <int NB, int TILE>
inline void matmul_group(const float* __restrict in, int in_stride, const float* __restrict w,
                         int I, int O, float* __restrict out, int out_stride) {
  int o0 = 0;
  for (; o0 + TILE <= O; o0 += TILE) {
    float acc[NB][TILE];
    for (int b = 0; b < NB; ++b) {
      for (int o = 0; o < TILE; ++o) acc[b][o] = out[b * out_stride + o0 + o];
    }
    for (int i = 0; i < I; ++i) {
      const float* row = w + static_cast<size_t>(i) * O + o0;
      for (int b = 0; b < NB; ++b) {
        const float v = in[b * in_stride + i];
        for (int o = 0; o < TILE; ++o) acc[b][o] += v * row[o];
      }
    }
    for (int b = 0; b < NB; ++b) {
      for (int o = 0; o < TILE; ++o) out[b * out_stride + o0 + o] = acc[b][o];
    }
  }
  for (; o0 < O; ++o0) {  // columns left over when O is not a multiple of TILE
    for (int b = 0; b < NB; ++b) {
      float acc = out[b * out_stride + o0];
      for (int i = 0; i < I; ++i) acc += in[b * in_stride + i] * w[static_cast<size_t>(i) * O + o0];
      out[b * out_stride + o0] = acc;
    }
  }
}

inline void matmul_add(const float* in, int in_stride, const float* w, int I, int O, float* out,
                       int out_stride, int B) {
  int b = 0;
  for (; b + GROUP <= B; b += GROUP) {
    matmul_group<GROUP, GROUP_TILE>(in + b * in_stride, in_stride, w, I, O, out + b * out_stride,
                                    out_stride);
  }
  for (; b + HALF <= B; b += HALF) {
    matmul_group<HALF, HALF_TILE>(in + b * in_stride, in_stride, w, I, O, out + b * out_stride,
                                  out_stride);
  }
  for (; b < B; ++b) {
    matmul_group<1, SINGLE_TILE>(in + b * in_stride, in_stride, w, I, O, out + b * out_stride, out_stride);
  }
}

// Everything one call reads and writes, as raw pointers and sizes.
struct Call {
  int k, K, R, G, S, L, B, T, Tb, ring_rows, t0;
  float temperature;
  const float *tables, *input_bias, *conv_kernel, *conv_bias, *out_kernel, *out_bias;
  const float *hidden_kernel, *hidden_bias, *logits_kernel, *logits_bias, *step_bias, *noise;
  const int32_t *x, *observed;
  std::vector<int> dilations, offsets;
  int32_t* values;
  float* ring;        // (B, ring_rows, R)
  int32_t* history;   // (B, k)
};

// The chunk's time steps for examples b0 .. b1 - 1 (their state is theirs alone).
void Run(const Call& c, int b0, int b1) {
  const int nb = b1 - b0, R = c.R, G = c.G, G2 = c.G / 2, S = c.S, K = c.K, RS = c.R + c.S;
  // Per example: residual stream h (R), both conv inputs [h[t - d], h[t]] (2R), gate
  // pre-activations z (G), gated units (G / 2), the layer output (R + S), skip sum (S).
  std::vector<float> h(nb * R), stacked(nb * 2 * R), z(nb * G), gated(nb * G2), y(nb * RS),
      skip(nb * S), hidden(nb * S), relu(nb * S), logits(nb * K);
  for (int step = 0; step < c.T; ++step) {
    const int t = c.t0 + step;
    for (int e = 0; e < nb; ++e) {
      const int32_t* hist = c.history + (b0 + e) * c.k;
      for (int r = 0; r < R; ++r) h[e * R + r] = c.input_bias[r];
      for (int j = 0; j < c.k; ++j) {
        const float* row = c.tables + (static_cast<size_t>(j) * (K + 1) + hist[j]) * R;
        for (int r = 0; r < R; ++r) h[e * R + r] += row[r];
      }
      std::fill(skip.begin() + e * S, skip.begin() + (e + 1) * S, 0.0f);
    }
    for (int l = 0; l < c.L; ++l) {
      const int row = c.offsets[l] + t % c.dilations[l];
      for (int e = 0; e < nb; ++e) {
        float* past = c.ring + (static_cast<size_t>(b0 + e) * c.ring_rows + row) * R;
        std::memcpy(&stacked[e * 2 * R], past, sizeof(float) * R);
        std::memcpy(&stacked[e * 2 * R + R], &h[e * R], sizeof(float) * R);
        std::memcpy(past, &h[e * R], sizeof(float) * R);  // h[t], read back at step t + d
        std::fill(z.begin() + e * G, z.begin() + (e + 1) * G, 0.0f);
      }
      matmul_add(stacked.data(), 2 * R, c.conv_kernel + static_cast<size_t>(l) * 2 * R * G,
                 2 * R, G, z.data(), G, nb);
      const float* bias = c.conv_bias + l * G;
      for (int e = 0; e < nb; ++e) {
        const size_t when = c.Tb > 1 ? step : 0;
        const float* cond = c.step_bias + ((when * c.B + b0 + e) * c.L + l) * G;
        float* ze = &z[e * G];
        for (int g = 0; g < G; ++g) ze[g] = (ze[g] + bias[g]) + cond[g];
        float* ge = &gated[e * G2];
        for (int g = 0; g < G2; ++g) ge[g] = tanh_approx(ze[g]) * sigmoid(ze[G2 + g]);
        std::fill(y.begin() + e * RS, y.begin() + (e + 1) * RS, 0.0f);
      }
      matmul_add(gated.data(), G2, c.out_kernel + static_cast<size_t>(l) * G2 * RS, G2, RS,
                 y.data(), RS, nb);
      const float* b_out = c.out_bias + l * RS;
      for (int e = 0; e < nb; ++e) {
        for (int r = 0; r < R; ++r) h[e * R + r] += y[e * RS + r] + b_out[r];
        for (int j = 0; j < S; ++j) skip[e * S + j] += y[e * RS + R + j] + b_out[R + j];
      }
    }
    for (int i = 0; i < nb * S; ++i) relu[i] = std::max(skip[i], 0.0f);
    std::fill(hidden.begin(), hidden.end(), 0.0f);
    matmul_add(relu.data(), S, c.hidden_kernel, S, S, hidden.data(), S, nb);
    for (int e = 0; e < nb; ++e) {
      for (int j = 0; j < S; ++j) {
        relu[e * S + j] = std::max(hidden[e * S + j] + c.hidden_bias[j], 0.0f);
      }
    }
    std::fill(logits.begin(), logits.end(), 0.0f);
    matmul_add(relu.data(), S, c.logits_kernel, S, K, logits.data(), K, nb);
    for (int e = 0; e < nb; ++e) {
      const size_t at = static_cast<size_t>(step) * c.B + b0 + e;
      const float* noise = c.noise + at * K;
      int best = 0;
      float best_value = -INFINITY;
      for (int q = 0; q < K; ++q) {  // jnp.argmax: the first NaN, else the first maximum
        const float v = noise[q] + (logits[e * K + q] + c.logits_bias[q]) / c.temperature;
        if (std::isnan(v)) {
          best = q;
          break;
        }
        if (v > best_value) {
          best_value = v;
          best = q;
        }
      }
      const int32_t value = c.observed[at] ? c.x[at] : best;
      c.values[at] = value;
      int32_t* hist = c.history + (b0 + e) * c.k;
      for (int j = c.k - 1; j > 0; --j) hist[j] = hist[j - 1];
      hist[0] = value;
    }
  }
}

ffi::Error GenerateChunk(ffi::Buffer<ffi::F32> tables, ffi::Buffer<ffi::F32> input_bias,
                         ffi::Buffer<ffi::F32> conv_kernel, ffi::Buffer<ffi::F32> conv_bias,
                         ffi::Buffer<ffi::F32> out_kernel, ffi::Buffer<ffi::F32> out_bias,
                         ffi::Buffer<ffi::F32> hidden_kernel, ffi::Buffer<ffi::F32> hidden_bias,
                         ffi::Buffer<ffi::F32> logits_kernel, ffi::Buffer<ffi::F32> logits_bias,
                         ffi::Buffer<ffi::S32> dilations, ffi::Buffer<ffi::F32> step_bias,
                         ffi::Buffer<ffi::S32> x, ffi::Buffer<ffi::S32> observed,
                         ffi::Buffer<ffi::F32> noise, ffi::Buffer<ffi::F32> temperature,
                         ffi::Buffer<ffi::S32> start, ffi::Buffer<ffi::F32> ring_in,
                         ffi::Buffer<ffi::S32> history_in, ffi::ResultBuffer<ffi::S32> values,
                         ffi::ResultBuffer<ffi::F32> ring_out,
                         ffi::ResultBuffer<ffi::S32> history_out) {
  auto td = tables.dimensions();        // (k, K + 1, R)
  auto cd = conv_kernel.dimensions();   // (L, 2, R, G)
  auto xd = x.dimensions();             // (T, B)
  Call c;
  c.k = td[0];
  c.K = td[1] - 1;
  c.R = td[2];
  c.L = cd[0];
  c.G = cd[3];
  c.S = hidden_kernel.dimensions()[0];
  c.T = xd[0];
  c.B = xd[1];
  c.Tb = step_bias.dimensions()[0];
  c.ring_rows = ring_in.dimensions()[1];
  if (cd[2] != c.R || logits_kernel.dimensions()[1] != c.K || c.G % 2) {
    return ffi::Error(ffi::ErrorCode::kInvalidArgument, "wavenet_native: inconsistent shapes");
  }
  c.t0 = start.typed_data()[0];
  c.temperature = temperature.typed_data()[0];
  c.tables = tables.typed_data();
  c.input_bias = input_bias.typed_data();
  c.conv_kernel = conv_kernel.typed_data();
  c.conv_bias = conv_bias.typed_data();
  c.out_kernel = out_kernel.typed_data();
  c.out_bias = out_bias.typed_data();
  c.hidden_kernel = hidden_kernel.typed_data();
  c.hidden_bias = hidden_bias.typed_data();
  c.logits_kernel = logits_kernel.typed_data();
  c.logits_bias = logits_bias.typed_data();
  c.step_bias = step_bias.typed_data();
  c.noise = noise.typed_data();
  c.x = x.typed_data();
  c.observed = observed.typed_data();
  c.values = values->typed_data();
  c.ring = ring_out->typed_data();
  c.history = history_out->typed_data();
  if (c.ring != ring_in.typed_data()) {  // not aliased: start from the input state
    std::memcpy(c.ring, ring_in.typed_data(), sizeof(float) * ring_in.element_count());
  }
  if (c.history != history_in.typed_data()) {
    std::memcpy(c.history, history_in.typed_data(), sizeof(int32_t) * history_in.element_count());
  }
  for (int l = 0, row = 0; l < c.L; ++l) {
    c.dilations.push_back(dilations.typed_data()[l]);
    c.offsets.push_back(row);
    row += c.dilations.back();
  }
  // Examples are independent: split them over the cores (batch 1 runs on one).
  const int threads = std::max(1, std::min<int>(c.B, std::thread::hardware_concurrency()));
  std::vector<std::thread> workers;
  for (int n = 1; n < threads; ++n) {
    workers.emplace_back(Run, std::cref(c), c.B * n / threads, c.B * (n + 1) / threads);
  }
  Run(c, 0, c.B / threads);
  for (auto& worker : workers) worker.join();
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(WavenetGenerateChunk, GenerateChunk,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // tables
                                  .Arg<ffi::Buffer<ffi::F32>>()  // input_bias
                                  .Arg<ffi::Buffer<ffi::F32>>()  // conv_kernel
                                  .Arg<ffi::Buffer<ffi::F32>>()  // conv_bias
                                  .Arg<ffi::Buffer<ffi::F32>>()  // out_kernel
                                  .Arg<ffi::Buffer<ffi::F32>>()  // out_bias
                                  .Arg<ffi::Buffer<ffi::F32>>()  // hidden_kernel
                                  .Arg<ffi::Buffer<ffi::F32>>()  // hidden_bias
                                  .Arg<ffi::Buffer<ffi::F32>>()  // logits_kernel
                                  .Arg<ffi::Buffer<ffi::F32>>()  // logits_bias
                                  .Arg<ffi::Buffer<ffi::S32>>()  // dilations
                                  .Arg<ffi::Buffer<ffi::F32>>()  // step_bias
                                  .Arg<ffi::Buffer<ffi::S32>>()  // x
                                  .Arg<ffi::Buffer<ffi::S32>>()  // observed
                                  .Arg<ffi::Buffer<ffi::F32>>()  // noise
                                  .Arg<ffi::Buffer<ffi::F32>>()  // temperature
                                  .Arg<ffi::Buffer<ffi::S32>>()  // start
                                  .Arg<ffi::Buffer<ffi::F32>>()  // ring_in
                                  .Arg<ffi::Buffer<ffi::S32>>()  // history_in
                                  .Ret<ffi::Buffer<ffi::S32>>()  // values
                                  .Ret<ffi::Buffer<ffi::F32>>()  // ring_out
                                  .Ret<ffi::Buffer<ffi::S32>>()  // history_out
);
