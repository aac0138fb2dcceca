/*
 * A game engine in miniature, the way Unity runs managed scripts: embed Mono (mono_jit_init),
 * load a script assembly, make its object, call Start() once, Update(dt) every frame at 60 Hz and
 * OnDestroy() at the end. With --window, each frame also clears a GLFW window (libglfw.so.3, opened
 * at run time) to a colour made from the script's CameraYaw field, swaps and polls, as a game
 * renders while the tracker runs; the last frame's pixel is read back and printed.
 *
 * usage: mono-host SCRIPT.dll CLASS FRAMES [--window]
 * exit: 0 ok, 2 usage or load error, 3 a managed exception (printed), 4 no window.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mono/jit/jit.h>
#include <mono/metadata/assembly.h>
#include <mono/metadata/mono-config.h>
#include <mono/metadata/object.h>

static int report(const char *what, MonoObject *exc)
{
    MonoObject *inner = NULL;
    MonoString *text = mono_object_to_string(exc, &inner);
    char *utf8 = text ? mono_string_to_utf8(text) : NULL;
    fprintf(stderr, "mono-host: %s threw: %s\n", what, utf8 ? utf8 : "(no message)");
    if (utf8) mono_free(utf8);
    return 3;
}

static int invoke(MonoMethod *method, MonoObject *obj, void **args, const char *what)
{
    MonoObject *exc = NULL;
    mono_runtime_invoke(method, obj, args, &exc);
    return exc ? report(what, exc) : 0;
}

/* The few GLFW and GL entry points the window needs, looked up at run time. */
typedef struct {
    int (*init)(void);
    void *(*create)(int, int, const char *, void *, void *);
    void (*make_current)(void *);
    void *(*proc)(const char *);
    void (*swap)(void *);
    void (*poll)(void);
    void (*destroy)(void *);
    void (*terminate)(void);
    void (*clear_color)(float, float, float, float);
    void (*clear)(unsigned int);
    void (*finish)(void);
    void (*read_pixels)(int, int, int, int, unsigned int, unsigned int, void *);
    void *window;
} Window;

static int open_window(Window *w)
{
    void *lib = dlopen("libglfw.so.3", RTLD_NOW);
    if (!lib) { fprintf(stderr, "mono-host: cannot open libglfw.so.3: %s\n", dlerror()); return 0; }
    w->init = (int (*)(void))dlsym(lib, "glfwInit");
    w->create = (void *(*)(int, int, const char *, void *, void *))dlsym(lib, "glfwCreateWindow");
    w->make_current = (void (*)(void *))dlsym(lib, "glfwMakeContextCurrent");
    w->proc = (void *(*)(const char *))dlsym(lib, "glfwGetProcAddress");
    w->swap = (void (*)(void *))dlsym(lib, "glfwSwapBuffers");
    w->poll = (void (*)(void))dlsym(lib, "glfwPollEvents");
    w->destroy = (void (*)(void *))dlsym(lib, "glfwDestroyWindow");
    w->terminate = (void (*)(void))dlsym(lib, "glfwTerminate");
    if (!w->init || !w->create || !w->make_current || !w->proc || !w->swap || !w->poll) return 0;
    if (!w->init()) { fprintf(stderr, "mono-host: glfwInit failed (no display?)\n"); return 0; }
    w->window = w->create(320, 240, "HeadTracker under Mono", NULL, NULL);
    if (!w->window) { fprintf(stderr, "mono-host: glfwCreateWindow failed\n"); return 0; }
    w->make_current(w->window);
    w->clear_color = (void (*)(float, float, float, float))w->proc("glClearColor");
    w->clear = (void (*)(unsigned int))w->proc("glClear");
    w->finish = (void (*)(void))w->proc("glFinish");
    w->read_pixels = (void (*)(int, int, int, int, unsigned int, unsigned int, void *))w->proc("glReadPixels");
    return w->clear_color && w->clear && w->finish && w->read_pixels;
}

static float yaw_colour(float yaw)
{
    float r = 0.5f + yaw / 90.0f;
    return r < 0 ? 0 : r > 1 ? 1 : r;
}

int main(int argc, char **argv)
{
    if (argc < 4) { fprintf(stderr, "usage: mono-host SCRIPT.dll CLASS FRAMES [--window]\n"); return 2; }
    int frames = atoi(argv[3]);
    int windowed = argc > 4 && strcmp(argv[4], "--window") == 0;
    Window w;
    memset(&w, 0, sizeof w);
    if (windowed && !open_window(&w)) return 4;

    mono_config_parse(NULL);
    MonoDomain *domain = mono_jit_init("headtracker-host");
    MonoAssembly *assembly = mono_domain_assembly_open(domain, argv[1]);
    if (!assembly) { fprintf(stderr, "mono-host: cannot load %s\n", argv[1]); return 2; }
    MonoImage *image = mono_assembly_get_image(assembly);
    MonoClass *klass = mono_class_from_name(image, "", argv[2]);
    if (!klass) { fprintf(stderr, "mono-host: %s has no class %s\n", argv[1], argv[2]); return 2; }
    MonoMethod *start = mono_class_get_method_from_name(klass, "Start", 0);
    MonoMethod *update = mono_class_get_method_from_name(klass, "Update", 1);
    MonoMethod *destroy = mono_class_get_method_from_name(klass, "OnDestroy", 0);
    MonoClassField *yaw_field = mono_class_get_field_from_name(klass, "CameraYaw");
    if (!start || !update || !destroy || !yaw_field) { fprintf(stderr, "mono-host: %s lacks Start(), Update(float), OnDestroy() or CameraYaw\n", argv[2]); return 2; }

    MonoObject *script = mono_object_new(domain, klass);
    uint32_t handle = mono_gchandle_new(script, 1);
    mono_runtime_object_init(script);
    int rc = invoke(start, script, NULL, "Start()");
    float yaw = 0;
    struct timespec tick = { 0, 1000000000L / 60 };
    for (int i = 0; rc == 0 && i < frames; i++) {
        float dt = 1.0f / 60.0f;
        void *args[1] = { &dt };
        rc = invoke(update, script, args, "Update(dt)");
        mono_field_get_value(script, yaw_field, &yaw);
        if (windowed) {
            w.clear_color(yaw_colour(yaw), 0.25f, 0.5f, 1.0f);
            w.clear(0x4000); /* GL_COLOR_BUFFER_BIT */
            if (i == frames - 1) {
                unsigned char px[4] = { 0, 0, 0, 0 };
                w.finish();
                w.read_pixels(160, 120, 1, 1, 0x1908, 0x1401, px); /* GL_RGBA, GL_UNSIGNED_BYTE */
                printf("mono-host: window 320x240, last pixel %u,%u,%u for yaw %.3f (expected red %.0f)\n",
                       px[0], px[1], px[2], yaw, yaw_colour(yaw) * 255.0f);
            }
            w.swap(w.window);
            w.poll();
        }
        nanosleep(&tick, NULL);
    }
    if (rc == 0) rc = invoke(destroy, script, NULL, "OnDestroy()");
    printf("mono-host: %d frames, last CameraYaw %.3f, exit %d\n", frames, yaw, rc);
    mono_gchandle_free(handle);
    if (windowed) { w.destroy(w.window); w.terminate(); }
    mono_jit_cleanup(domain);
    return rc;
}
