/*
 * rekcli.engine._fhog: dlib's HOG face-detector scan of one pyramid level, in C.
 *
 * Why this exists: dlib's scan (fHOG features, then five 10 x 10 x 31 filters) is most of
 * the CPU time of indexing an image. This file computes the same features and the same
 * filter responses (to float rounding: ~2e-6 in a score) in 30% of the time (88 ms against
 * dlib's 293 for the pyramid of a 2880 x 1620 working copy, one core), because
 *   - a pixel's orientation is looked up in a table of every integer gradient (made with
 *     dlib's own arithmetic) instead of taking 9 dot products;
 *   - magnitudes, histogram rows, normalisation and filter passes are plain loops over
 *     contiguous rows that the compiler vectorises;
 *   - each pixel row is binned into one row of cell histograms (2 scattered adds per pixel
 *     instead of dlib's 4), which is then added to the two cell rows it touches;
 *   - the filters are applied as dlib applies them, as sums of separable row/column pairs
 *     (the detector was trained with a nuclear-norm penalty, so each 10 x 10 plane has rank
 *     1-3), each pass vectorised along the row with fused multiply-adds.
 * Loop indices are Py_ssize_t: CPython compiles extensions with -fwrapv, under which an int
 * index may wrap and gcc gives up vectorising (the filters then ran 7x slower).
 * hog_scan.py builds the separable filters from the detector's own weights, makes the level
 * images with dlib's pyramid_down<6>, and maps and suppresses the windows found; tests
 * compare every window's score with dlib's (tests/test_engine_hog_scan.py).
 *
 * The feature definition follows dlib's extract_fhog_features (cell size 8, grayscale,
 * 18 signed + 9 unsigned orientation features and 4 texture features per cell, filter
 * padding 10), which follows Felzenszwalb et al., "Object Detection with Discriminatively
 * Trained Part Based Models", PAMI 2010. Compiled with -ffp-contract=off so that the
 * features are computed with the same float roundings as dlib's (only the filter loops,
 * marked FUSED, may fuse).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CELL 8
#define PLANES 31
#define BINS 18
#define WINDOW 10                      /* filter size, in cells */
/* zero cells above and left of the features (4; there are 5 below and right) */
#define PAD_BEFORE ((WINDOW - 1) / 2)

/* The hot loops are compiled twice, for x86-64-v3 (AVX2 and FMA: CPUs since 2013-2015) and
 * for baseline x86-64, and the loader picks one for the CPU (an AVX-512 clone measured 7%
 * slower here). The filter loops may fuse multiply-adds; the rest keeps dlib's roundings. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && \
    defined(__GLIBC__)
/* target_clones needs glibc's ifunc; "arch=x86-64-v3" needs gcc 11. Elsewhere: one build. */
#define VECTORISED __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTORISED
#endif
#if defined(__GNUC__) && !defined(__clang__)
#define FUSED __attribute__((optimize("fp-contract=fast")))
#else
#define FUSED
#endif

/* dlib's 9 unit vectors for the unsigned orientations (as floats, as dlib rounds them). */
static const float DIRECTION_X[9] = {1.0000f, 0.9397f, 0.7660f, 0.500f, 0.1736f,
                                     -0.1736f, -0.5000f, -0.7660f, -0.9397f};
static const float DIRECTION_Y[9] = {0.0000f, 0.3420f, 0.6428f, 0.8660f, 0.9848f,
                                     0.9848f, 0.8660f, 0.6428f, 0.3420f};

typedef struct {
    int cells_nr, cells_nc;  /* cells of the image (rounded to nearest) */
    int hog_nr, hog_nc;      /* cells with a full 3 x 3 neighbourhood: the feature cells */
    int rows, cols;          /* a feature plane with its zero padding */
} Layout;

static int layout_of(int nr, int nc, Layout *layout)
{
    layout->cells_nr = (int)((float)nr / (float)CELL + 0.5f);
    layout->cells_nc = (int)((float)nc / (float)CELL + 0.5f);
    layout->hog_nr = layout->cells_nr - 2;
    layout->hog_nc = layout->cells_nc - 2;
    if (layout->hog_nr <= 0 || layout->hog_nc <= 0)
        return 0;
    layout->rows = layout->hog_nr + WINDOW - 1;
    layout->cols = layout->hog_nc + WINDOW - 1;
    return 1;
}

/* Orientation bins depend only on the integer gradient (gx, gy), each in [-255, 255]: a
 * table of all 511 x 511 answers, made once when the module loads (~2 ms), replaces 9 dot
 * products per pixel with one lookup. */
#define GRADIENT_SPAN 511
static uint8_t orientation_of_gradient[GRADIENT_SPAN * GRADIENT_SPAN];

/* The signed orientation bin (0-17) of a gradient: the direction of largest |dot product|
 * among dlib's 9, ties to the first, with dlib's float roundings (no fused multiply-add). */
static uint8_t orientation_bin(float gx, float gy)
{
    float best_dot = 0.0f;
    int best = 0;
    for (int o = 0; o < 9; o++) {
        const float dot = gx * DIRECTION_X[o] + gy * DIRECTION_Y[o];
        if (dot > best_dot) {
            best_dot = dot;
            best = o;
        } else if (-dot > best_dot) {
            best_dot = -dot;
            best = o + 9;
        }
    }
    return (uint8_t)best;
}

static void make_orientation_table(void)
{
    for (int gy = -255; gy <= 255; gy++)
        for (int gx = -255; gx <= 255; gx++)
            orientation_of_gradient[(gy + 255) * GRADIENT_SPAN + (gx + 255)] =
                orientation_bin((float)gx, (float)gy);
}

/* Gradient magnitude of pixels x in [1, end) of a row. */
VECTORISED
static void gradient_magnitudes(const uint8_t *restrict above, const uint8_t *restrict row,
                                const uint8_t *restrict below, Py_ssize_t end,
                                float *restrict magnitude)
{
    for (Py_ssize_t x = 1; x < end; x++) {
        const float gx = (float)((int32_t)row[x + 1] - (int32_t)row[x - 1]);
        const float gy = (float)((int32_t)below[x] - (int32_t)above[x]);
        magnitude[x] = sqrtf(gx * gx + gy * gy);
    }
}

/* dst[i] += (a[i] + b[i])^2 */
VECTORISED
static void add_squared_sum(float *restrict dst, const float *restrict a,
                            const float *restrict b, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        const float sum = a[i] + b[i];
        dst[i] += sum * sum;
    }
}

/* dst[i] = a[i] + b[i] */
static void add_pair(float *restrict dst, const float *restrict a, const float *restrict b,
                     Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        dst[i] = a[i] + b[i];
}

/* dst[i] = src[i] * factor */
static void scale_into(float *restrict dst, const float *restrict src, float factor,
                       Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        dst[i] = src[i] * factor;
}

/* weighted[x] = weight[x] * magnitude[x] */
VECTORISED
static void weigh(const float *restrict weight, const float *restrict magnitude,
                  float *restrict weighted, Py_ssize_t n)
{
    for (Py_ssize_t x = 0; x < n; x++)
        weighted[x] = weight[x] * magnitude[x];
}

/* top[i] += top_weight * votes[i]; bottom[i] += bottom_weight * votes[i]; votes[i] = 0 */
VECTORISED
static void spread_votes(float *restrict top, float *restrict bottom, float *restrict votes,
                         float top_weight, float bottom_weight, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        top[i] += top_weight * votes[i];
        bottom[i] += bottom_weight * votes[i];
        votes[i] = 0.0f;
    }
}

/*
 * The orientation histograms of every cell, bilinearly interpolated over the 4 nearest cell
 * centres, as dlib does. hist is planar: BINS planes of (cells_nr + 2) x (cells_nc + 2),
 * with a one-cell margin that takes the votes falling outside the image. Each pixel row is
 * binned into one row of cell histograms (each pixel votes into 2 cells), which is then
 * added to the two cell rows it touches with the vertical weights.
 */
static void cell_histograms(const uint8_t *img, Py_ssize_t stride, int nr, int nc,
                            const Layout *layout, float *hist, float *scratch)
{
    const int hist_nc = layout->cells_nc + 2;
    const Py_ssize_t plane = (Py_ssize_t)(layout->cells_nr + 2) * hist_nc;
    const int visible_nr = (layout->cells_nr * CELL < nr ? layout->cells_nr * CELL : nr) - 1;
    const int visible_nc = (layout->cells_nc * CELL < nc ? layout->cells_nc * CELL : nc) - 1;
    float *magnitude = scratch, *left_weight = magnitude + nc, *right_weight = left_weight + nc;
    float *left_vote = right_weight + nc, *right_vote = left_vote + nc;
    int32_t *cell = (int32_t *)(right_vote + nc);
    float *row_hist = (float *)(cell + nc); /* BINS x hist_nc, zero between rows */

    /* pixel x votes into cell column cell[x] (margin-shifted) and the next one */
    for (int x = 1; x < visible_nc; x++) {
        const float xp = ((float)x + 0.5f) / (float)CELL + 0.5f;
        cell[x] = (int32_t)xp;
        right_weight[x] = xp - (float)cell[x];
        left_weight[x] = 1.0f - right_weight[x];
    }
    memset(row_hist, 0, sizeof(float) * BINS * hist_nc);
    for (int y = 1; y < visible_nr; y++) {
        const float yp = ((float)y + 0.5f) / (float)CELL - 0.5f;
        const int iyp = (int)floorf(yp);
        const float vy0 = yp - (float)iyp;
        const float vy1 = 1.0f - vy0;
        const uint8_t *row = img + (Py_ssize_t)y * stride;
        const uint8_t *above = row - stride, *below = row + stride;

        gradient_magnitudes(above, row, below, visible_nc, magnitude);
        weigh(left_weight + 1, magnitude + 1, left_vote + 1, visible_nc - 1);
        weigh(right_weight + 1, magnitude + 1, right_vote + 1, visible_nc - 1);
        for (int x = 1; x < visible_nc; x++) {
            const int gx = (int)row[x + 1] - (int)row[x - 1];
            const int gy = (int)below[x] - (int)above[x];
            const int bin = orientation_of_gradient[(gy + 255) * GRADIENT_SPAN + (gx + 255)];
            float *votes = row_hist + (Py_ssize_t)bin * hist_nc + cell[x];
            votes[0] += left_vote[x];
            votes[1] += right_vote[x];
        }
        for (int o = 0; o < BINS; o++) {
            float *top = hist + o * plane + (Py_ssize_t)(iyp + 1) * hist_nc;
            spread_votes(top, top + hist_nc, row_hist + (Py_ssize_t)o * hist_nc, vy1, vy0,
                         hist_nc);
        }
    }
}

/* Energy of each cell over the unsigned orientations: sum of (h[o] + h[o + 9])^2. */
static void cell_energies(const Layout *layout, const float *hist, float *norm)
{
    const int hist_nc = layout->cells_nc + 2;
    const Py_ssize_t hist_plane = (Py_ssize_t)(layout->cells_nr + 2) * hist_nc;
    const int nc = layout->cells_nc;
    memset(norm, 0, sizeof(float) * layout->cells_nr * nc);
    for (int r = 0; r < layout->cells_nr; r++) {
        float *energy = norm + (Py_ssize_t)r * nc;
        const float *h = hist + (Py_ssize_t)(r + 1) * hist_nc + 1;
        for (int o = 0; o < 9; o++)
            add_squared_sum(energy, h + o * hist_plane, h + (o + 9) * hist_plane, nc);
    }
}

/* For one row of feature cells: each cell's 4 block normalisers, in dlib's form
 * (clip = 0.2 sqrt(block energy + eps), scale = 0.1 / clip), from 3 rows of energies. */
VECTORISED
static void block_normalisers(const float *restrict n0, const float *restrict n1,
                              const float *restrict n2, Py_ssize_t count,
                              float *restrict clip, float *restrict scale)
{
    const float eps = 0.0001f;
    for (Py_ssize_t x = 0; x < count; x++) {
        /* the four 2 x 2 blocks around the cell, each summed in dlib's order */
        const float block0 = ((n1[x + 1] + n1[x + 2]) + n2[x + 1]) + n2[x + 2];
        const float block1 = ((n0[x + 1] + n0[x + 2]) + n1[x + 1]) + n1[x + 2];
        const float block2 = ((n1[x] + n1[x + 1]) + n2[x]) + n2[x + 1];
        const float block3 = ((n0[x] + n0[x + 1]) + n1[x]) + n1[x + 1];
        clip[x] = 0.2f * sqrtf(block0 + eps);
        clip[count + x] = 0.2f * sqrtf(block1 + eps);
        clip[2 * count + x] = 0.2f * sqrtf(block2 + eps);
        clip[3 * count + x] = 0.2f * sqrtf(block3 + eps);
    }
    for (Py_ssize_t i = 0; i < 4 * count; i++)
        scale[i] = 0.1f / clip[i];
}

/* One orientation's feature for a row of cells: the sum over the 4 blocks of
 * min(h[x], clip) * scale (dlib's clipping at 0.2 of the block norm, times 0.5). */
VECTORISED
static void normalised_row(const float *restrict h, const float *restrict clip,
                           const float *restrict scale, Py_ssize_t count, float *restrict out)
{
    for (Py_ssize_t x = 0; x < count; x++) {
        float value = 0.0f;
        for (int i = 0; i < 4; i++) {
            const float c = clip[i * count + x];
            value += (h[x] < c ? h[x] : c) * scale[i * count + x];
        }
        out[x] = value;
    }
}

/* normalised_row for a signed orientation, also adding each block's part to
 * texture[block][x] (the texture features sum them over the 18 signed orientations). */
VECTORISED
static void normalised_signed_row(const float *restrict h, const float *restrict clip,
                                  const float *restrict scale, Py_ssize_t count,
                                  float *restrict out, float *restrict texture)
{
    for (Py_ssize_t x = 0; x < count; x++) {
        float value = 0.0f;
        for (int i = 0; i < 4; i++) {
            const float c = clip[i * count + x];
            const float part = (h[x] < c ? h[x] : c) * scale[i * count + x];
            value += part;
            texture[i * count + x] += part;
        }
        out[x] = value;
    }
}

/* The 31 feature planes, zero-padded by PAD_BEFORE cells before and 5 after (dlib's layout):
 * 18 signed and 9 unsigned orientations, normalised by the 4 blocks around the cell and
 * clipped at 0.2, and 4 texture features (each block's sum over the signed ones). */
static void features_from_histograms(const Layout *layout, const float *hist, float *norm,
                                     float *planes, float *scratch)
{
    const int hist_nc = layout->cells_nc + 2;
    const Py_ssize_t hist_plane = (Py_ssize_t)(layout->cells_nr + 2) * hist_nc;
    const int nc = layout->cells_nc, count = layout->hog_nc;
    const Py_ssize_t plane = (Py_ssize_t)layout->rows * layout->cols;
    float *clip = scratch, *scale = clip + 4 * count, *texture = scale + 4 * count;
    float *unsigned_hist = texture + 4 * count;

    cell_energies(layout, hist, norm);
    memset(planes, 0, sizeof(float) * plane * PLANES);
    for (int y = 0; y < layout->hog_nr; y++) {
        const float *n0 = norm + (Py_ssize_t)y * nc;
        block_normalisers(n0, n0 + nc, n0 + 2 * nc, count, clip, scale);
        memset(texture, 0, sizeof(float) * 4 * count);
        const float *h = hist + (Py_ssize_t)(y + 2) * hist_nc + 2;
        float *out = planes + (Py_ssize_t)(y + PAD_BEFORE) * layout->cols + PAD_BEFORE;
        for (int o = 0; o < BINS; o++)
            normalised_signed_row(h + o * hist_plane, clip, scale, count, out + o * plane,
                                  texture);
        for (int o = 0; o < 9; o++) {
            add_pair(unsigned_hist, h + o * hist_plane, h + (o + 9) * hist_plane, count);
            normalised_row(unsigned_hist, clip, scale, count, out + (18 + o) * plane);
        }
        for (int i = 0; i < 4; i++)
            scale_into(out + (27 + i) * plane, texture + i * count, 2.0f * 0.2357f, count);
    }
}

/* out[x] = sum_n in[x + n] * taps[n], x in [0, n_out) */
VECTORISED FUSED
static void filter_row(const float *restrict in, const float *restrict taps, float *restrict out,
                       Py_ssize_t n_out)
{
    for (Py_ssize_t x = 0; x < n_out; x++) {
        float sum = 0.0f;
        for (int n = 0; n < WINDOW; n++)
            sum += in[x + n] * taps[n];
        out[x] = sum;
    }
}

/* out[y][x] += sum_m in[y + m][x] * taps[m] */
VECTORISED FUSED
static void filter_columns_into(const float *restrict in, Py_ssize_t in_stride,
                                const float *restrict taps, float *restrict out,
                                Py_ssize_t n_rows, Py_ssize_t n_cols)
{
    for (Py_ssize_t y = 0; y < n_rows; y++) {
        float *restrict dst = out + y * n_cols;
        const float *restrict src = in + y * in_stride;
        for (Py_ssize_t x = 0; x < n_cols; x++) {
            float sum = 0.0f;
#pragma GCC unroll 10
            for (int m = 0; m < WINDOW; m++)
                sum += src[m * in_stride + x] * taps[m];
            dst[x] += sum;
        }
    }
}

typedef struct {
    Py_ssize_t count;
    const float *row_taps;   /* count x WINDOW */
    const float *col_taps;   /* count x WINDOW */
    const int32_t *plane;    /* count */
    const int32_t *filter;   /* count */
    int n_filters;
} Filterbank;

/* Saliency of each filter at each feature cell: n_filters x hog_nr x hog_nc. */
static void apply_filters(const Filterbank *bank, const Layout *layout, const float *planes,
                          float *saliency, float *scratch)
{
    const Py_ssize_t plane = (Py_ssize_t)layout->rows * layout->cols;
    const Py_ssize_t per_filter = (Py_ssize_t)layout->hog_nr * layout->hog_nc;
    memset(saliency, 0, sizeof(float) * per_filter * bank->n_filters);
    for (Py_ssize_t j = 0; j < bank->count; j++) {
        const float *features = planes + bank->plane[j] * plane;
        for (int r = 0; r < layout->rows; r++)
            filter_row(features + (Py_ssize_t)r * layout->cols, bank->row_taps + j * WINDOW,
                       scratch + (Py_ssize_t)r * layout->hog_nc, layout->hog_nc);
        filter_columns_into(scratch, layout->hog_nc, bank->col_taps + j * WINDOW,
                            saliency + bank->filter[j] * per_filter, layout->hog_nr,
                            layout->hog_nc);
    }
}

/* Whether a buffer's struct format is the single native item `code` (numpy writes "B",
 * "i", "f", "d", sometimes with a byte-order prefix that means native here). */
static int format_is(const Py_buffer *view, char code)
{
    const char *format = view->format ? view->format : "B";
    if (*format == '@' || *format == '=' || *format == (PY_LITTLE_ENDIAN ? '<' : '>'))
        format++;
    if (code == 'i' && *format == 'l' && view->itemsize == 4)
        return format[1] == '\0'; /* a 4-byte C long */
    return format[0] == code && format[1] == '\0';
}

/* A C-contiguous buffer of `code` items, at least `count` of them; 0 with an exception set
 * if `object` is not one. */
static int typed_buffer(PyObject *object, Py_buffer *view, char code, Py_ssize_t count,
                        const char *what)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return 0;
    if (!format_is(view, code) || view->len / view->itemsize < count) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd or more items of type '%c'", what,
                     count, code);
        PyBuffer_Release(view);
        return 0;
    }
    return 1;
}

/* The filterbank, checked and copied out of the caller's arrays so that nothing the caller
 * does while the scan runs without the GIL can change what it reads. NULL with an exception
 * set if the arrays are inconsistent. Free with free(). */
static Filterbank *copy_filterbank(PyObject *row_obj, PyObject *col_obj, PyObject *plane_obj,
                                   PyObject *filter_obj, PyObject *threshold_obj,
                                   double **thresholds_out)
{
    Py_buffer planes, filters, rows, cols, thresholds;
    Filterbank *bank = NULL;
    if (!typed_buffer(plane_obj, &planes, 'i', 0, "planes"))
        return NULL;
    const Py_ssize_t count = planes.len / planes.itemsize;
    if (!typed_buffer(filter_obj, &filters, 'i', count, "filters"))
        goto release_planes;
    if (!typed_buffer(row_obj, &rows, 'f', count * WINDOW, "row_taps"))
        goto release_filters;
    if (!typed_buffer(col_obj, &cols, 'f', count * WINDOW, "col_taps"))
        goto release_rows;
    if (!typed_buffer(threshold_obj, &thresholds, 'd', 1, "thresholds"))
        goto release_cols;

    const Py_ssize_t n_filters = thresholds.len / thresholds.itemsize;
    const int32_t *plane_of = planes.buf, *filter_of = filters.buf;
    for (Py_ssize_t j = 0; j < count; j++) {
        if (plane_of[j] < 0 || plane_of[j] >= PLANES || filter_of[j] < 0 ||
            filter_of[j] >= n_filters) {
            PyErr_SetString(PyExc_ValueError, "planes/filters: index out of range");
            goto release_thresholds;
        }
    }
    const size_t taps = sizeof(float) * (size_t)(count * WINDOW);
    const size_t indices = sizeof(int32_t) * (size_t)count;
    bank = malloc(sizeof(Filterbank) + 2 * taps + 2 * indices + sizeof(double) * n_filters);
    if (bank == NULL) {
        PyErr_NoMemory();
        goto release_thresholds;
    }
    char *copy = (char *)(bank + 1);
    double *limits = (double *)copy;
    memcpy(limits, thresholds.buf, sizeof(double) * n_filters);
    float *row_taps = (float *)(limits + n_filters), *col_taps = row_taps + count * WINDOW;
    int32_t *plane = (int32_t *)(col_taps + count * WINDOW), *filter = plane + count;
    memcpy(row_taps, rows.buf, taps);
    memcpy(col_taps, cols.buf, taps);
    memcpy(plane, plane_of, indices);
    memcpy(filter, filter_of, indices);
    *bank = (Filterbank){count, row_taps, col_taps, plane, filter, (int)n_filters};
    *thresholds_out = limits;

release_thresholds:
    PyBuffer_Release(&thresholds);
release_cols:
    PyBuffer_Release(&cols);
release_rows:
    PyBuffer_Release(&rows);
release_filters:
    PyBuffer_Release(&filters);
release_planes:
    PyBuffer_Release(&planes);
    return bank;
}

/* (filter, row, column, saliency) for every response >= its filter's threshold; NULL with
 * an exception set on failure. */
static PyObject *windows_above(const float *saliency, const Layout *layout, int n_filters,
                               const double *limits)
{
    PyObject *result = PyList_New(0);
    const Py_ssize_t per_filter = (Py_ssize_t)layout->hog_nr * layout->hog_nc;
    for (int k = 0; k < n_filters && result != NULL; k++) {
        const float *values = saliency + k * per_filter;
        for (Py_ssize_t i = 0; i < per_filter; i++) {
            if (values[i] < limits[k])
                continue;
            PyObject *item = Py_BuildValue("(innd)", k, i / layout->hog_nc,
                                           i % layout->hog_nc, (double)values[i]);
            if (item == NULL || PyList_Append(result, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(result);
                break;
            }
            Py_DECREF(item);
        }
    }
    return result;
}

/* Features and filter responses of one image (GIL released); NULL with an exception set if
 * out of memory. */
static float *filter_responses(const uint8_t *pixels, int nr, int nc, const Layout *layout,
                               const Filterbank *bank)
{
    const Py_ssize_t hist_size = (Py_ssize_t)BINS * (layout->cells_nr + 2) * (layout->cells_nc + 2);
    const Py_ssize_t norm_size = (Py_ssize_t)layout->cells_nr * layout->cells_nc;
    const Py_ssize_t planes_size = (Py_ssize_t)PLANES * layout->rows * layout->cols;
    const Py_ssize_t saliency_size = (Py_ssize_t)layout->hog_nr * layout->hog_nc * bank->n_filters;
    /* the largest of cell_histograms', features_from_histograms' and apply_filters' needs */
    Py_ssize_t scratch_size = (Py_ssize_t)6 * nc + (Py_ssize_t)BINS * (layout->cells_nc + 2);
    if (scratch_size < (Py_ssize_t)13 * layout->hog_nc)
        scratch_size = (Py_ssize_t)13 * layout->hog_nc;
    if (scratch_size < (Py_ssize_t)layout->rows * layout->hog_nc)
        scratch_size = (Py_ssize_t)layout->rows * layout->hog_nc;
    /* the saliency comes first: the caller keeps it and frees the whole block */
    float *memory = calloc((size_t)(saliency_size + hist_size + norm_size + planes_size +
                                    scratch_size),
                           sizeof(float));
    if (memory == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    float *saliency = memory, *hist = saliency + saliency_size, *norm = hist + hist_size;
    float *planes = norm + norm_size, *scratch = planes + planes_size;

    Py_BEGIN_ALLOW_THREADS
    cell_histograms(pixels, nc, nr, nc, layout, hist, scratch);
    features_from_histograms(layout, hist, norm, planes, scratch);
    apply_filters(bank, layout, planes, saliency, scratch);
    Py_END_ALLOW_THREADS
    return memory;
}

PyDoc_STRVAR(scan_doc,
"scan(image, row_taps, col_taps, planes, filters, thresholds) -> list\n\n"
"Scan one grayscale image (a C-contiguous 2-D uint8 array) with a separable filterbank:\n"
"component j adds plane planes[j] (int32) filtered along rows by row_taps[j] (10 float32)\n"
"and along columns by col_taps[j] to the response of filter filters[j] (int32). Returns\n"
"(filter, row, column, response) for every feature cell where a filter's response is >=\n"
"thresholds[filter] (float64); row and column index the cells with a full window (dlib's\n"
"saliency image minus its 5-cell border).");

static PyObject *scan(PyObject *self, PyObject *args)
{
    PyObject *image_obj, *row_obj, *col_obj, *plane_obj, *filter_obj, *threshold_obj;
    if (!PyArg_ParseTuple(args, "OOOOOO", &image_obj, &row_obj, &col_obj, &plane_obj,
                          &filter_obj, &threshold_obj))
        return NULL;

    Py_buffer image;
    if (PyObject_GetBuffer(image_obj, &image, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (image.ndim != 2 || !format_is(&image, 'B')) {
        PyBuffer_Release(&image);
        PyErr_SetString(PyExc_ValueError, "image: expected a 2-D uint8 array");
        return NULL;
    }
    if (image.shape[0] > INT_MAX / 8 || image.shape[1] > INT_MAX / 8) {
        PyBuffer_Release(&image);
        PyErr_SetString(PyExc_ValueError, "image: too large");
        return NULL;
    }
    double *limits = NULL;
    Filterbank *bank = copy_filterbank(row_obj, col_obj, plane_obj, filter_obj, threshold_obj,
                                       &limits);
    PyObject *result = NULL;
    const int nr = (int)image.shape[0], nc = (int)image.shape[1];
    Layout layout;
    if (bank == NULL) {
        /* the exception is set */
    } else if (nr < 3 || nc < 3 || !layout_of(nr, nc, &layout)) {
        result = PyList_New(0); /* fewer than 3 cells a side: no window fits */
    } else {
        float *saliency = filter_responses(image.buf, nr, nc, &layout, bank);
        if (saliency != NULL) {
            result = windows_above(saliency, &layout, bank->n_filters, limits);
            free(saliency);
        }
    }
    free(bank);
    PyBuffer_Release(&image);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, scan_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fhog",
    "dlib's HOG face-detector scan of one pyramid level, in C (see hog_scan.py).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__fhog(void)
{
    make_orientation_table();
    return PyModule_Create(&module);
}
