using System;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>Pinhole camera intrinsics in pixels.</summary>
internal readonly record struct Intrinsics(double Fx, double Fy, double Cx, double Cy)
{
    /// <summary>Projects a camera-space point (cm, z forward) to pixels.</summary>
    public (double X, double Y) Project(double x, double y, double z) => ((Fx * x / z) + Cx, (Fy * y / z) + Cy);
}

/// <summary>A rigid placement: camera = R · head + T (R row-major, T in cm).</summary>
internal readonly record struct Placement(double[] R, double[] T)
{
    public (double X, double Y, double Z) Apply(double x, double y, double z) =>
        ((R[0] * x) + (R[1] * y) + (R[2] * z) + T[0],
         (R[3] * x) + (R[4] * y) + (R[5] * z) + T[1],
         (R[6] * x) + (R[7] * y) + (R[8] * z) + T[2]);

    public (double X, double Y, double Z) Rotate(double x, double y, double z) =>
        ((R[0] * x) + (R[1] * y) + (R[2] * z), (R[3] * x) + (R[4] * y) + (R[5] * z), (R[6] * x) + (R[7] * y) + (R[8] * z));
}

/// <summary>What a surface looks like: its colour at a texture coordinate (BGR, 0..255).</summary>
internal abstract class Material
{
    public abstract void Sample(float u, float v, out float b, out float g, out float r);
}

/// <summary>
/// A small software rasterizer: perspective-correct texture and normal interpolation, a depth
/// buffer, Lambert shading, and an id per pixel saying which object covers it (for masks and
/// keypoint visibility). Renders over a background already in <see cref="Color"/>. One per thread.
/// </summary>
internal sealed class Rasterizer
{
    private double[] _sx = [], _sy = [], _iz = [], _cz = [], _nx = [], _ny = [], _nz = [];

    public Rasterizer(int width, int height)
    {
        Width = width;
        Height = height;
        Depth = new float[width * height];
        Color = new byte[width * height * 3];
        Ids = new byte[width * height];
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Camera-space depth (cm) of the nearest surface per pixel; +inf where none.</summary>
    public float[] Depth { get; }

    /// <summary>BGR pixels, row-major.</summary>
    public byte[] Color { get; }

    /// <summary>Object id per pixel (0: background).</summary>
    public byte[] Ids { get; }

    /// <summary>Light: direction the light travels (camera space, unit), ambient and diffuse weights.</summary>
    public (double X, double Y, double Z) LightDirection { get; set; } = (0, 0, 1);

    public double Ambient { get; set; } = 0.45;

    public double Diffuse { get; set; } = 0.65;

    /// <summary>Starts a frame over <paramref name="backgroundBgr"/> (Width*Height*3 bytes).</summary>
    public void Clear(ReadOnlySpan<byte> backgroundBgr)
    {
        backgroundBgr.CopyTo(Color);
        Array.Fill(Depth, float.PositiveInfinity);
        Array.Clear(Ids);
    }

    /// <summary>Draws <paramref name="mesh"/> placed by <paramref name="pose"/>; back faces are culled.</summary>
    public void Draw(Mesh mesh, Placement pose, Intrinsics k, Material material, byte id)
    {
        int n = mesh.VertexCount;
        if (_sx.Length < n)
        {
            _sx = new double[n]; _sy = new double[n]; _iz = new double[n]; _cz = new double[n];
            _nx = new double[n]; _ny = new double[n]; _nz = new double[n];
        }

        float[] p = mesh.Positions, nm = mesh.Normals;
        for (int i = 0; i < n; i++)
        {
            (double x, double y, double z) = pose.Apply(p[i * 3], p[(i * 3) + 1], p[(i * 3) + 2]);
            (double sx, double sy) = k.Project(x, y, z);
            _sx[i] = sx;
            _sy[i] = sy;
            _cz[i] = z;
            _iz[i] = 1.0 / z;
            (_nx[i], _ny[i], _nz[i]) = pose.Rotate(nm[i * 3], nm[(i * 3) + 1], nm[(i * 3) + 2]);
        }

        int[] t = mesh.Triangles;
        for (int i = 0; i < t.Length; i += 3)
        {
            int a = t[i], b = t[i + 1], c = t[i + 2];
            if (_cz[a] < 1 || _cz[b] < 1 || _cz[c] < 1)
            {
                continue; // behind or too close to the camera
            }

            // Cull triangles turned away: the mean normal points along the view ray.
            double mx = (_nx[a] + _nx[b] + _nx[c]) / 3, my = (_ny[a] + _ny[b] + _ny[c]) / 3, mz = (_nz[a] + _nz[b] + _nz[c]) / 3;
            (double vx, double vy, double vz) = pose.Apply(
                (p[a * 3] + p[b * 3] + p[c * 3]) / 3, (p[(a * 3) + 1] + p[(b * 3) + 1] + p[(c * 3) + 1]) / 3, (p[(a * 3) + 2] + p[(b * 3) + 2] + p[(c * 3) + 2]) / 3);
            if ((mx * vx) + (my * vy) + (mz * vz) > 0)
            {
                continue;
            }

            Triangle(mesh, a, b, c, material, id);
        }
    }

    private void Triangle(Mesh mesh, int a, int b, int c, Material material, byte id)
    {
        double ax = _sx[a], ay = _sy[a], bx = _sx[b], by = _sy[b], cx = _sx[c], cy = _sy[c];
        double area = ((bx - ax) * (cy - ay)) - ((by - ay) * (cx - ax));
        if (Math.Abs(area) < 1e-9)
        {
            return;
        }

        int x0 = Math.Max(0, (int)Math.Floor(Math.Min(ax, Math.Min(bx, cx))));
        int x1 = Math.Min(Width - 1, (int)Math.Ceiling(Math.Max(ax, Math.Max(bx, cx))));
        int y0 = Math.Max(0, (int)Math.Floor(Math.Min(ay, Math.Min(by, cy))));
        int y1 = Math.Min(Height - 1, (int)Math.Ceiling(Math.Max(ay, Math.Max(by, cy))));
        float[] uv = mesh.Uvs;
        (double lx, double ly, double lz) = LightDirection;
        for (int y = y0; y <= y1; y++)
        {
            double py = y + 0.5;
            for (int x = x0; x <= x1; x++)
            {
                double px = x + 0.5;
                double w0 = (((bx - px) * (cy - py)) - ((by - py) * (cx - px))) / area;
                double w1 = (((cx - px) * (ay - py)) - ((cy - py) * (ax - px))) / area;
                double w2 = 1 - w0 - w1;
                if (w0 < 0 || w1 < 0 || w2 < 0)
                {
                    continue;
                }

                // Perspective-correct weights.
                double q0 = w0 * _iz[a], q1 = w1 * _iz[b], q2 = w2 * _iz[c], qs = q0 + q1 + q2;
                float depth = (float)(1.0 / qs);
                int pi = (y * Width) + x;
                if (depth >= Depth[pi])
                {
                    continue;
                }

                q0 /= qs;
                q1 /= qs;
                q2 /= qs;
                float u = (float)((q0 * uv[a * 2]) + (q1 * uv[b * 2]) + (q2 * uv[c * 2]));
                float v = (float)((q0 * uv[(a * 2) + 1]) + (q1 * uv[(b * 2) + 1]) + (q2 * uv[(c * 2) + 1]));
                double nx = (q0 * _nx[a]) + (q1 * _nx[b]) + (q2 * _nx[c]);
                double ny = (q0 * _ny[a]) + (q1 * _ny[b]) + (q2 * _ny[c]);
                double nz = (q0 * _nz[a]) + (q1 * _nz[b]) + (q2 * _nz[c]);
                double len = Math.Sqrt((nx * nx) + (ny * ny) + (nz * nz));
                double lambert = len > 0 ? Math.Max(0, -((nx * lx) + (ny * ly) + (nz * lz)) / len) : 0;
                double shade = Ambient + (Diffuse * lambert);
                material.Sample(u, v, out float cb, out float cg, out float cr);
                int ci = pi * 3;
                Color[ci] = Clamp(cb * shade);
                Color[ci + 1] = Clamp(cg * shade);
                Color[ci + 2] = Clamp(cr * shade);
                Depth[pi] = depth;
                Ids[pi] = id;
            }
        }
    }

    private static byte Clamp(double v) => v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5);
}
