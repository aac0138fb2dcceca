using System;
using HeadTracking.Runtime;
using OpenCvSharp;
using Silk.NET.OpenGL;

namespace HeadTracking.Demo.Rendering;

/// <summary>What the demo shows beside the frame; the keys toggle these.</summary>
internal sealed class SceneFlags
{
    /// <summary>The head mask as a translucent tint (key M).</summary>
    public bool Mask { get; set; } = true;

    /// <summary>Keypoint dots (key K).</summary>
    public bool Keypoints { get; set; } = true;

    /// <summary>Keypoint names beside the dots (key N).</summary>
    public bool Names { get; set; }

    /// <summary>Draw the smoothed pose (true) or the raw one (key F).</summary>
    public bool Filtered { get; set; } = true;
}

/// <summary>
/// Draws a frame and a <see cref="TrackingResult"/> with OpenGL 3.3 shaders: the frame as a
/// streaming texture; the mask as a tinted texture over the region it covers; the face box, the
/// keypoints, the head centre and the pose's axes as coloured triangles in frame pixels; and RGBA
/// overlays (the HUD, keypoint names) as textured quads. Every GL object is made once and reused;
/// textures are reallocated only when a size changes. Use on the GL thread only.
/// </summary>
internal sealed unsafe class SceneRenderer : IDisposable
{
    private const int FloatsPerVertex = 6; // x, y in frame pixels; r, g, b, a
    private const int MaxVertices = 1024;

    private const string QuadVertex = """
        #version 330 core
        layout(location = 0) in vec2 aUnit;
        uniform vec4 uRect;
        out vec2 vUv;
        void main() {
            vUv = aUnit;
            gl_Position = vec4(mix(uRect.x, uRect.z, aUnit.x), mix(uRect.y, uRect.w, aUnit.y), 0.0, 1.0);
        }
        """;

    private const string QuadFragment = """
        #version 330 core
        in vec2 vUv;
        uniform sampler2D uTex;
        uniform int uMode;
        uniform vec4 uTint;
        out vec4 color;
        void main() {
            vec4 t = texture(uTex, vUv);
            if (uMode == 0) color = vec4(t.rgb, 1.0);
            else if (uMode == 1) color = vec4(uTint.rgb, uTint.a * step(0.5, t.r));
            else color = t;
        }
        """;

    private const string OverlayVertex = """
        #version 330 core
        layout(location = 0) in vec2 aPixel;
        layout(location = 1) in vec4 aColor;
        uniform vec2 uFrameSize;
        out vec4 vColor;
        void main() {
            vColor = aColor;
            gl_Position = vec4(aPixel.x / uFrameSize.x * 2.0 - 1.0, 1.0 - aPixel.y / uFrameSize.y * 2.0, 0.0, 1.0);
        }
        """;

    private const string OverlayFragment = """
        #version 330 core
        in vec4 vColor;
        out vec4 color;
        void main() { color = vColor; }
        """;

    /// <summary>Face box colour (RGBA).</summary>
    public static readonly float[] BoxColor = [0.1f, 1f, 0.2f, 1f];

    /// <summary>Mask tint (RGB and opacity).</summary>
    public static readonly float[] MaskTint = [1f, 0.25f, 0.9f, 0.4f];

    /// <summary>Head centre colour.</summary>
    public static readonly float[] CentreColor = [1f, 1f, 1f, 1f];

    /// <summary>Pose axes: the head's x (toward its left ear), y (down) and forward (out of the face).</summary>
    public static readonly float[][] AxisColors = [[1f, 0.15f, 0.15f, 1f], [0.2f, 0.85f, 0.2f, 1f], [0.25f, 0.45f, 1f, 1f]];

    /// <summary>Keypoint colours (RGBA), in BlazeFace's keypoint order, repeating beyond six.</summary>
    public static readonly float[][] KeypointColors =
    [
        [1f, 0.2f, 0.2f, 1f], [0.2f, 0.4f, 1f, 1f], [1f, 1f, 0.2f, 1f],
        [1f, 0.2f, 1f, 1f], [0.2f, 1f, 1f, 1f], [1f, 0.6f, 0.1f, 1f],
    ];

    private readonly GL _gl;
    private readonly uint _quadProgram, _overlayProgram;
    private readonly uint _unitVao, _unitVbo, _overlayVao, _overlayVbo;
    private readonly Texture _frame, _mask, _hud, _labels;
    private readonly int _rectUniform, _modeUniform, _tintUniform, _frameSizeUniform;
    private readonly float[] _vertices = new float[MaxVertices * FloatsPerVertex];
    private readonly double[] _rotation = new double[9];

    public SceneRenderer(GL gl)
    {
        _gl = gl;
        _quadProgram = Program(QuadVertex, QuadFragment);
        _overlayProgram = Program(OverlayVertex, OverlayFragment);
        _rectUniform = _gl.GetUniformLocation(_quadProgram, "uRect");
        _modeUniform = _gl.GetUniformLocation(_quadProgram, "uMode");
        _tintUniform = _gl.GetUniformLocation(_quadProgram, "uTint");
        _frameSizeUniform = _gl.GetUniformLocation(_overlayProgram, "uFrameSize");

        _unitVao = _gl.GenVertexArray();
        _gl.BindVertexArray(_unitVao);
        _unitVbo = _gl.GenBuffer();
        _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _unitVbo);
        ReadOnlySpan<float> unit = [0f, 0f, 1f, 0f, 0f, 1f, 1f, 1f];
        _gl.BufferData(BufferTargetARB.ArrayBuffer, unit, BufferUsageARB.StaticDraw);
        _gl.EnableVertexAttribArray(0);
        _gl.VertexAttribPointer(0, 2, VertexAttribPointerType.Float, false, 2 * sizeof(float), null);

        _overlayVao = _gl.GenVertexArray();
        _gl.BindVertexArray(_overlayVao);
        _overlayVbo = _gl.GenBuffer();
        _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _overlayVbo);
        _gl.BufferData(BufferTargetARB.ArrayBuffer, (nuint)(_vertices.Length * sizeof(float)), null, BufferUsageARB.StreamDraw);
        _gl.EnableVertexAttribArray(0);
        _gl.VertexAttribPointer(0, 2, VertexAttribPointerType.Float, false, FloatsPerVertex * sizeof(float), null);
        _gl.EnableVertexAttribArray(1);
        _gl.VertexAttribPointer(1, 4, VertexAttribPointerType.Float, false, FloatsPerVertex * sizeof(float), (void*)(2 * sizeof(float)));
        _gl.BindVertexArray(0);

        _frame = new Texture(_gl);
        _mask = new Texture(_gl);
        _hud = new Texture(_gl);
        _labels = new Texture(_gl);
    }

    /// <summary>
    /// Draws <paramref name="bgr"/> filling a <paramref name="viewportWidth"/> x
    /// <paramref name="viewportHeight"/> viewport, then what <paramref name="result"/> holds (when
    /// not null and valid), then the RGBA overlays: <paramref name="labels"/> stretched over the
    /// viewport and <paramref name="hud"/> at the top-left corner, one texel per pixel.
    /// </summary>
    public void Draw(Mat bgr, TrackingResult? result, SceneFlags flags, Mat? hud, Mat? labels, int viewportWidth, int viewportHeight)
    {
        if (!bgr.IsContinuous() || bgr.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException("expected a continuous 8-bit BGR frame", nameof(bgr));
        }

        int fw = bgr.Width, fh = bgr.Height;
        _gl.Viewport(0, 0, (uint)viewportWidth, (uint)viewportHeight);
        _gl.Disable(EnableCap.DepthTest);
        _gl.Disable(EnableCap.Blend);
        _frame.Upload((nint)bgr.DataPointer, fw, fh, InternalFormat.Rgb8, PixelFormat.Bgr);
        Quad(_frame, 0, -1f, 1f, 1f, -1f, null);

        _gl.Enable(EnableCap.Blend);
        _gl.BlendFunc(BlendingFactor.SrcAlpha, BlendingFactor.OneMinusSrcAlpha);
        if (result is { Valid: true } r)
        {
            if (flags.Mask && r.Mask.Length > 0 && r.Mask.Length == r.MaskWidth * r.MaskHeight)
            {
                fixed (byte* m = r.Mask)
                {
                    _mask.Upload((nint)m, r.MaskWidth, r.MaskHeight, InternalFormat.R8, PixelFormat.Red);
                }

                float[] g = r.MaskRegion;
                Quad(_mask, 1, (g[0] / fw * 2) - 1, 1 - (g[1] / fh * 2), (g[2] / fw * 2) - 1, 1 - (g[3] / fh * 2), MaskTint);
            }

            int count = BuildOverlay(r, flags, Math.Max(2f, fw / 320f));
            if (count > 0)
            {
                _gl.UseProgram(_overlayProgram);
                _gl.Uniform2(_frameSizeUniform, (float)fw, fh);
                _gl.BindVertexArray(_overlayVao);
                _gl.BindBuffer(BufferTargetARB.ArrayBuffer, _overlayVbo);
                _gl.BufferSubData(BufferTargetARB.ArrayBuffer, 0, new ReadOnlySpan<float>(_vertices, 0, count * FloatsPerVertex));
                _gl.DrawArrays(PrimitiveType.Triangles, 0, (uint)count);
            }
        }

        if (labels != null)
        {
            _labels.Upload((nint)labels.DataPointer, labels.Width, labels.Height, InternalFormat.Rgba8, PixelFormat.Rgba);
            Quad(_labels, 2, -1f, 1f, 1f, -1f, null);
        }

        if (hud != null)
        {
            _hud.Upload((nint)hud.DataPointer, hud.Width, hud.Height, InternalFormat.Rgba8, PixelFormat.Rgba);
            float x1 = Math.Min(1f, (2f * hud.Width / viewportWidth) - 1), y1 = Math.Max(-1f, 1 - (2f * hud.Height / viewportHeight));
            Quad(_hud, 2, -1f, 1f, x1, y1, null);
        }

        _gl.Disable(EnableCap.Blend);
        _gl.BindVertexArray(0);
    }

    public void Dispose()
    {
        _frame.Dispose();
        _mask.Dispose();
        _hud.Dispose();
        _labels.Dispose();
        _gl.DeleteBuffer(_unitVbo);
        _gl.DeleteBuffer(_overlayVbo);
        _gl.DeleteVertexArray(_unitVao);
        _gl.DeleteVertexArray(_overlayVao);
        _gl.DeleteProgram(_quadProgram);
        _gl.DeleteProgram(_overlayProgram);
    }

    /// <summary>A textured quad from (x0, y0) top-left to (x1, y1) bottom-right in NDC.</summary>
    private void Quad(Texture texture, int mode, float x0, float y0, float x1, float y1, float[]? tint)
    {
        _gl.UseProgram(_quadProgram);
        _gl.ActiveTexture(TextureUnit.Texture0);
        _gl.BindTexture(TextureTarget.Texture2D, texture.Name);
        _gl.Uniform4(_rectUniform, x0, y0, x1, y1);
        _gl.Uniform1(_modeUniform, mode);
        if (tint != null)
        {
            _gl.Uniform4(_tintUniform, tint[0], tint[1], tint[2], tint[3]);
        }

        _gl.BindVertexArray(_unitVao);
        _gl.DrawArrays(PrimitiveType.TriangleStrip, 0, 4);
    }

    /// <summary>Fills the vertex buffer: box edges, keypoint squares, the centre cross and the
    /// pose axes, as triangles in frame pixels. Returns the vertex count.</summary>
    private int BuildOverlay(TrackingResult r, SceneFlags flags, float t)
    {
        int v = 0;
        float[] b = r.Box;
        bool hasBox = b[2] > b[0] && b[3] > b[1];
        if (hasBox)
        {
            v = Rect(v, b[0] - t, b[1] - t, b[2] + t, b[1], BoxColor);
            v = Rect(v, b[0] - t, b[3], b[2] + t, b[3] + t, BoxColor);
            v = Rect(v, b[0] - t, b[1], b[0], b[3], BoxColor);
            v = Rect(v, b[2], b[1], b[2] + t, b[3], BoxColor);
        }

        if (flags.Keypoints)
        {
            float k = t * 1.5f;
            for (int i = 0; i + 1 < r.Keypoints.Length && v + 6 <= MaxVertices - 60; i += 2)
            {
                v = Rect(v, r.Keypoints[i] - k, r.Keypoints[i + 1] - k, r.Keypoints[i] + k, r.Keypoints[i + 1] + k, KeypointColors[(i / 2) % KeypointColors.Length]);
            }
        }

        float cx = r.CenterX, cy = r.CenterY, arm = t * 3;
        v = Rect(v, cx - arm, cy - (t / 2), cx + arm, cy + (t / 2), CentreColor);
        v = Rect(v, cx - (t / 2), cy - arm, cx + (t / 2), cy + arm, CentreColor);

        HeadPose pose = flags.Filtered ? r.Filtered : r.Raw;
        pose.RotationMatrix(_rotation);
        float length = hasBox ? 0.5f * (b[2] - b[0]) : 0.1f * r.FrameWidth;
        double[] m = _rotation;
        // Columns of R are the head's axes in camera space; drawn orthographically from the centre.
        v = Line(v, cx, cy, cx + (length * (float)m[0]), cy + (length * (float)m[3]), t, AxisColors[0]);
        v = Line(v, cx, cy, cx + (length * (float)m[1]), cy + (length * (float)m[4]), t, AxisColors[1]);
        v = Line(v, cx, cy, cx - (length * (float)m[2]), cy - (length * (float)m[5]), t, AxisColors[2]);
        return v;
    }

    private int Line(int v, float x0, float y0, float x1, float y1, float thickness, float[] c)
    {
        float dx = x1 - x0, dy = y1 - y0, n = MathF.Sqrt((dx * dx) + (dy * dy));
        if (n < 1e-3f)
        {
            return v;
        }

        float px = -dy / n * thickness / 2, py = dx / n * thickness / 2;
        v = Vertex(v, x0 + px, y0 + py, c);
        v = Vertex(v, x1 + px, y1 + py, c);
        v = Vertex(v, x0 - px, y0 - py, c);
        v = Vertex(v, x1 + px, y1 + py, c);
        v = Vertex(v, x1 - px, y1 - py, c);
        return Vertex(v, x0 - px, y0 - py, c);
    }

    private int Rect(int v, float x0, float y0, float x1, float y1, float[] c)
    {
        v = Vertex(v, x0, y0, c);
        v = Vertex(v, x1, y0, c);
        v = Vertex(v, x0, y1, c);
        v = Vertex(v, x1, y0, c);
        v = Vertex(v, x1, y1, c);
        return Vertex(v, x0, y1, c);
    }

    private int Vertex(int v, float x, float y, float[] c)
    {
        int i = v * FloatsPerVertex;
        _vertices[i] = x;
        _vertices[i + 1] = y;
        _vertices[i + 2] = c[0];
        _vertices[i + 3] = c[1];
        _vertices[i + 4] = c[2];
        _vertices[i + 5] = c[3];
        return v + 1;
    }

    private uint Program(string vertexSource, string fragmentSource)
    {
        uint vs = Shader(ShaderType.VertexShader, vertexSource);
        uint fs = Shader(ShaderType.FragmentShader, fragmentSource);
        uint program = _gl.CreateProgram();
        _gl.AttachShader(program, vs);
        _gl.AttachShader(program, fs);
        _gl.LinkProgram(program);
        _gl.GetProgram(program, ProgramPropertyARB.LinkStatus, out int linked);
        _gl.DeleteShader(vs);
        _gl.DeleteShader(fs);
        if (linked == 0)
        {
            throw new InvalidOperationException($"shader program failed to link: {_gl.GetProgramInfoLog(program)}");
        }

        return program;
    }

    private uint Shader(ShaderType type, string source)
    {
        uint shader = _gl.CreateShader(type);
        _gl.ShaderSource(shader, source);
        _gl.CompileShader(shader);
        _gl.GetShader(shader, ShaderParameterName.CompileStatus, out int ok);
        if (ok == 0)
        {
            throw new InvalidOperationException($"{type} failed to compile: {_gl.GetShaderInfoLog(shader)}");
        }

        return shader;
    }

    /// <summary>A 2-D texture, reallocated only when its size or format changes.</summary>
    private sealed class Texture : IDisposable
    {
        private readonly GL _gl;
        private int _width, _height;
        private InternalFormat _format;

        public Texture(GL gl)
        {
            _gl = gl;
            Name = _gl.GenTexture();
            _gl.BindTexture(TextureTarget.Texture2D, Name);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMinFilter, (int)TextureMinFilter.Linear);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureMagFilter, (int)TextureMagFilter.Linear);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapS, (int)TextureWrapMode.ClampToEdge);
            _gl.TexParameter(TextureTarget.Texture2D, TextureParameterName.TextureWrapT, (int)TextureWrapMode.ClampToEdge);
        }

        public uint Name { get; }

        public void Upload(nint pixels, int width, int height, InternalFormat format, PixelFormat layout)
        {
            _gl.BindTexture(TextureTarget.Texture2D, Name);
            _gl.PixelStore(PixelStoreParameter.UnpackAlignment, 1);
            if (width != _width || height != _height || format != _format)
            {
                _gl.TexImage2D(TextureTarget.Texture2D, 0, format, (uint)width, (uint)height, 0, layout, PixelType.UnsignedByte, (void*)pixels);
                (_width, _height, _format) = (width, height, format);
            }
            else
            {
                _gl.TexSubImage2D(TextureTarget.Texture2D, 0, 0, 0, (uint)width, (uint)height, layout, PixelType.UnsignedByte, (void*)pixels);
            }
        }

        public void Dispose() => _gl.DeleteTexture(Name);
    }
}
