/*
 * The bench's native reference (apps/bench/src/native.ts builds it at run time, never at
 * install or test time): the float32 RAdam step of packages/backend-cpu/assembly/kernels.ts
 * in plain C, in the same operation order, and the memory roofline of that step's access
 * pattern. One JSON object on stdout.
 *
 *   radam-step step <threads> <rounds>             tensor sizes on stdin: time one step over all
 *   radam-step roofline <threads> <rounds> <n>     4 read streams (p, g, m, v), 3 write streams
 *                                                  (p, m, v), in place, over n elements
 *   radam-step check <threads>                     stdin: n, 10 scalars, rectified (0/1), then
 *                                                  n values each of p, g, m, v: one step, p m v out
 *
 * Built with -ffp-contract=off (WebAssembly has no fused multiply-add, so neither may this)
 * and -fno-math-errno (sqrtf then vectorizes; results are the same). The vector width is the
 * compiler's: -mprefer-vector-width=128 gives what WebAssembly SIMD allows.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  float grad_scale, clip_value, weight_decay, param_scale, beta1, beta2, step_size, denom_scale, eps;
  int rectified;
} scalars_t;

/* Bits of x − x: zero exactly when x is finite (kernels.ts's nonFiniteBits). */
static inline uint32_t nonfinite_bits(float x) {
  float d = x - x;
  uint32_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

/* kernels.ts's radamSpan, element by element: returns 0 when every stored value is finite. */
static uint32_t radam_span(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                           const scalars_t *s) {
  const float gs = s->grad_scale, clip = s->clip_value, nclip = -s->clip_value, wd = s->weight_decay;
  const float ps = s->param_scale, b1 = s->beta1, omb1 = 1.0f - s->beta1, b2 = s->beta2, omb2 = 1.0f - s->beta2;
  const float ss = s->step_size, ds = s->denom_scale, eps = s->eps;
  uint32_t bad = 0;
  if (s->rectified) {
    for (size_t i = 0; i < n; i++) {
      float gi = g[i] * gs;
      gi = clip < gi ? clip : gi; /* f32x4.pmin(g, clip) */
      gi = gi < nclip ? nclip : gi; /* f32x4.pmax(g, −clip) */
      const float pi = p[i];
      gi = gi + wd * pi;
      const float mi = b1 * m[i] + omb1 * gi;
      const float vi = b2 * v[i] + (omb2 * gi) * gi;
      m[i] = mi;
      v[i] = vi;
      const float pn = pi * ps - (ss * mi) / (sqrtf(vi) * ds + eps);
      p[i] = pn;
      bad |= nonfinite_bits(mi) | nonfinite_bits(vi) | nonfinite_bits(pn);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      float gi = g[i] * gs;
      gi = clip < gi ? clip : gi;
      gi = gi < nclip ? nclip : gi;
      const float pi = p[i];
      gi = gi + wd * pi;
      const float mi = b1 * m[i] + omb1 * gi;
      const float vi = b2 * v[i] + (omb2 * gi) * gi;
      m[i] = mi;
      v[i] = vi;
      const float pn = pi * ps - ss * mi;
      p[i] = pn;
      bad |= nonfinite_bits(mi) | nonfinite_bits(vi) | nonfinite_bits(pn);
    }
  }
  return bad;
}

/* The roofline pattern: read p, g, m, v, write p, m, v in place, almost no arithmetic (bounded values). */
static uint32_t roofline_span(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                              const scalars_t *s) {
  (void)s;
  for (size_t i = 0; i < n; i++) {
    const float mi = m[i], vi = v[i], gi = g[i];
    m[i] = 0.5f * mi + gi;
    v[i] = 0.5f * vi + gi;
    p[i] = 0.5f * p[i] + mi - vi;
  }
  return 0;
}

typedef uint32_t (*span_fn)(float *restrict, const float *restrict, float *restrict, float *restrict, size_t, const scalars_t *);

typedef struct {
  size_t tensors;
  size_t *sizes;
  size_t *starts; /* global element index of each tensor's first element */
  size_t total;
  float **p, **g, **m, **v;
} workload_t;

typedef struct {
  workload_t *w;
  int threads;
  int rounds; /* timed and warm-up rounds the workers take part in */
  span_fn kernel;
  scalars_t scalars;
  pthread_barrier_t barrier;
  uint32_t bad[256];
} job_t;

/* Thread t's share of the global element range, cut at multiples of 16 elements (64-byte lines). */
static void share(const job_t *job, int t, size_t *lo, size_t *hi) {
  const size_t blocks = (job->w->total + 15) / 16;
  *lo = blocks * (size_t)t / (size_t)job->threads * 16;
  *hi = blocks * (size_t)(t + 1) / (size_t)job->threads * 16;
  if (*lo > job->w->total) *lo = job->w->total;
  if (*hi > job->w->total) *hi = job->w->total;
}

/* Runs `fn` over thread t's share: every tensor span that overlaps it. */
static uint32_t run_share(job_t *job, int t, span_fn fn) {
  size_t lo, hi;
  share(job, t, &lo, &hi);
  uint32_t bad = 0;
  const workload_t *w = job->w;
  for (size_t k = 0; k < w->tensors; k++) {
    const size_t a = w->starts[k], b = a + w->sizes[k];
    if (b <= lo || a >= hi) continue;
    const size_t from = (lo > a ? lo : a) - a, to = (hi < b ? hi : b) - a;
    bad |= fn(w->p[k] + from, w->g[k] + from, w->m[k] + from, w->v[k] + from, to - from, &job->scalars);
  }
  return bad;
}

static uint32_t fill_span(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                          const scalars_t *s) {
  (void)s;
  float *gw = (float *)g; /* the fill writes the gradient too */
  for (size_t i = 0; i < n; i++) {
    const float x = (float)((i * 2654435761u) % 2001u) / 1000.0f - 1.0f; /* in [-1, 1] */
    p[i] = x;
    gw[i] = 0.5f * x;
    m[i] = 0.01f * x;
    v[i] = 0.001f + 0.0001f * x * x;
  }
  return 0;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct {
  job_t *job;
  int t;
} worker_arg_t;

static void *worker(void *arg) {
  worker_arg_t *a = arg;
  job_t *job = a->job;
  /* First touch: each thread fills its own share, as it will step it. */
  run_share(job, a->t, fill_span);
  pthread_barrier_wait(&job->barrier);
  for (int r = 0; r < job->rounds; r++) {
    pthread_barrier_wait(&job->barrier);
    job->bad[a->t] |= run_share(job, a->t, job->kernel);
    pthread_barrier_wait(&job->barrier);
  }
  return NULL;
}

static int compare_doubles(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void *allocate(size_t floats) {
  void *ptr = NULL;
  if (posix_memalign(&ptr, 64, (floats == 0 ? 1 : floats) * sizeof(float)) != 0) {
    fprintf(stderr, "radam-step: out of memory\n");
    exit(2);
  }
  return ptr;
}

static void build(workload_t *w) {
  w->starts = malloc(w->tensors * sizeof(size_t));
  w->p = malloc(w->tensors * sizeof(float *));
  w->g = malloc(w->tensors * sizeof(float *));
  w->m = malloc(w->tensors * sizeof(float *));
  w->v = malloc(w->tensors * sizeof(float *));
  w->total = 0;
  for (size_t k = 0; k < w->tensors; k++) {
    w->starts[k] = w->total;
    w->total += w->sizes[k];
    w->p[k] = allocate(w->sizes[k]);
    w->g[k] = allocate(w->sizes[k]);
    w->m[k] = allocate(w->sizes[k]);
    w->v[k] = allocate(w->sizes[k]);
  }
}

/* Times `rounds` runs of `kernel` over the workload on `threads` threads, after 3 warm-up runs. */
static void timed(const char *mode, workload_t *w, int threads, int rounds, span_fn kernel) {
  enum { WARMUP = 3 };
  job_t job = {.w = w, .threads = threads, .rounds = WARMUP + rounds, .kernel = kernel};
  /* A rectified step of the default options at step 10 (lr 1e-3, betas 0.9 / 0.999, eps 1e-8). */
  job.scalars = (scalars_t){1.0f, INFINITY, 0.0f, 1.0f, 0.9f, 0.999f, 1.2e-3f, 10.0f, 1e-8f, 1};
  pthread_barrier_init(&job.barrier, NULL, (unsigned)threads);
  pthread_t ids[256];
  worker_arg_t args[256];
  for (int t = 1; t < threads; t++) {
    args[t] = (worker_arg_t){&job, t};
    pthread_create(&ids[t], NULL, worker, &args[t]);
  }
  run_share(&job, 0, fill_span);
  pthread_barrier_wait(&job.barrier);
  double *seconds = malloc((size_t)rounds * sizeof(double));
  for (int r = 0; r < job.rounds; r++) {
    const double start = now_seconds();
    pthread_barrier_wait(&job.barrier);
    job.bad[0] |= run_share(&job, 0, kernel);
    pthread_barrier_wait(&job.barrier);
    if (r >= WARMUP) seconds[r - WARMUP] = now_seconds() - start;
  }
  for (int t = 1; t < threads; t++) pthread_join(ids[t], NULL);
  uint32_t bad = 0;
  for (int t = 0; t < threads; t++) bad |= job.bad[t];
  qsort(seconds, (size_t)rounds, sizeof(double), compare_doubles);
  printf("{\"mode\":\"%s\",\"threads\":%d,\"tensors\":%zu,\"elements\":%zu,\"rounds\":%d,"
         "\"medianSeconds\":%.9g,\"minSeconds\":%.9g,\"finite\":%s}\n",
         mode, threads, w->tensors, w->total, rounds, seconds[rounds / 2], seconds[0], bad == 0 ? "true" : "false");
  free(seconds);
}

/* `check`: one step over n elements of given values, split over `threads` shares, run one after another. */
static int check(int threads) {
  size_t n;
  scalars_t s;
  if (scanf("%zu %f %f %f %f %f %f %f %f %f %d", &n, &s.grad_scale, &s.clip_value, &s.weight_decay, &s.param_scale,
            &s.beta1, &s.beta2, &s.step_size, &s.denom_scale, &s.eps, &s.rectified) != 11) {
    fprintf(stderr, "radam-step check: bad header\n");
    return 2;
  }
  workload_t w = {.tensors = 1, .sizes = &n};
  build(&w);
  float *arrays[4] = {w.p[0], w.g[0], w.m[0], w.v[0]};
  for (int a = 0; a < 4; a++)
    for (size_t i = 0; i < n; i++)
      if (scanf("%f", &arrays[a][i]) != 1) {
        fprintf(stderr, "radam-step check: expected %zu values per array\n", n);
        return 2;
      }
  job_t job = {.w = &w, .threads = threads, .scalars = s};
  uint32_t bad = 0;
  for (int t = 0; t < threads; t++) bad |= run_share(&job, t, radam_span);
  const char *names[3] = {"p", "m", "v"};
  float *outs[3] = {w.p[0], w.m[0], w.v[0]};
  printf("{\"mode\":\"check\",\"threads\":%d,\"finite\":%s", threads, bad == 0 ? "true" : "false");
  for (int a = 0; a < 3; a++) {
    printf(",\"%s\":[", names[a]);
    for (size_t i = 0; i < n; i++) {
      const float x = outs[a][i];
      if (isfinite(x)) printf("%s%.9g", i == 0 ? "" : ",", (double)x);
      else printf("%snull", i == 0 ? "" : ","); /* JSON has no NaN or Infinity */
    }
    printf("]");
  }
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: radam-step step <threads> <rounds> | roofline <threads> <rounds> <n> | check <threads>\n");
    return 2;
  }
  const int threads = atoi(argv[2]);
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "radam-step: threads must be 1 to 256\n");
    return 2;
  }
  if (strcmp(argv[1], "check") == 0) return check(threads);
  const int rounds = argc > 3 ? atoi(argv[3]) : 0;
  if (rounds < 1) {
    fprintf(stderr, "radam-step: rounds must be at least 1\n");
    return 2;
  }
  workload_t w = {0};
  if (strcmp(argv[1], "roofline") == 0 && argc > 4) {
    size_t n = strtoull(argv[4], NULL, 10);
    w.tensors = 1;
    w.sizes = &n;
    build(&w);
    timed("roofline", &w, threads, rounds, roofline_span);
    return 0;
  }
  if (strcmp(argv[1], "step") == 0) {
    size_t capacity = 64;
    w.sizes = malloc(capacity * sizeof(size_t));
    for (size_t n; scanf("%zu", &n) == 1;) {
      if (w.tensors == capacity) w.sizes = realloc(w.sizes, (capacity *= 2) * sizeof(size_t));
      w.sizes[w.tensors++] = n;
    }
    if (w.tensors == 0) {
      fprintf(stderr, "radam-step step: no tensor sizes on stdin\n");
      return 2;
    }
    build(&w);
    timed("step", &w, threads, rounds, radam_span);
    return 0;
  }
  fprintf(stderr, "radam-step: unknown mode %s\n", argv[1]);
  return 2;
}
