/* SHA-256 of many buffers in one call (OpenSSL's EVP interface, one context reused). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>

static EVP_MD *sha256_md = NULL;

static int digest_all(const unsigned char *data, const int32_t *offsets, Py_ssize_t count, const unsigned char *prefix,
                      Py_ssize_t prefix_len, Py_ssize_t stride, unsigned char *out) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL) return 0;
    int ok = 1;
    for (Py_ssize_t i = 0; i < count && ok; i++) {
        const unsigned char *start;
        size_t len;
        if (offsets != NULL) { start = data + offsets[i]; len = (size_t)(offsets[i + 1] - offsets[i]); }
        else { start = data + i * stride; len = (size_t)stride; }
        ok = EVP_DigestInit_ex2(ctx, sha256_md, NULL)
             && (prefix_len == 0 || EVP_DigestUpdate(ctx, prefix, (size_t)prefix_len))
             && EVP_DigestUpdate(ctx, start, len)
             && EVP_DigestFinal_ex(ctx, out + 32 * i, NULL);
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* each(data, offsets, count) -> bytes: SHA-256 of data[offsets[i]:offsets[i+1]] for i < count, back to back. */
static PyObject *each(PyObject *self, PyObject *args) {
    Py_buffer data, offsets;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*y*n", &data, &offsets, &count)) return NULL;
    PyObject *result = NULL;
    if (count < 0 || offsets.len < (count + 1) * (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_ValueError, "offsets too short for count");
        goto done;
    }
    const int32_t *offs = (const int32_t *)offsets.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (offs[i] < 0 || offs[i] > offs[i + 1] || offs[i + 1] > data.len) {
            PyErr_SetString(PyExc_ValueError, "offsets out of range");
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, 32 * count);
    if (result == NULL) goto done;
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = digest_all(data.buf, offs, count, NULL, 0, 0, (unsigned char *)PyBytes_AS_STRING(result));
    Py_END_ALLOW_THREADS
    if (!ok) { Py_CLEAR(result); PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-256 failed"); }
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return result;
}

/* parents(hashes) -> bytes: SHA-256(0x01 || left || right) of each consecutive pair of 32-byte hashes. */
static PyObject *parents(PyObject *self, PyObject *args) {
    Py_buffer hashes;
    if (!PyArg_ParseTuple(args, "y*", &hashes)) return NULL;
    Py_ssize_t pairs = hashes.len / 64;
    PyObject *result = PyBytes_FromStringAndSize(NULL, 32 * pairs);
    if (result != NULL) {
        static const unsigned char node_prefix[1] = {0x01};
        int ok;
        Py_BEGIN_ALLOW_THREADS
        ok = digest_all(hashes.buf, NULL, pairs, node_prefix, 1, 64, (unsigned char *)PyBytes_AS_STRING(result));
        Py_END_ALLOW_THREADS
        if (!ok) { Py_CLEAR(result); PyErr_SetString(PyExc_RuntimeError, "OpenSSL SHA-256 failed"); }
    }
    PyBuffer_Release(&hashes);
    return result;
}

static PyMethodDef methods[] = {
    {"each", each, METH_VARARGS, "SHA-256 of each value of a binary array (data, int32 offsets, count), back to back."},
    {"parents", parents, METH_VARARGS, "SHA-256(0x01 || pair) of each consecutive pair of 32-byte hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sha256many", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sha256many(void) {
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (sha256_md == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
        return NULL;
    }
    return PyModule_Create(&module);
}
