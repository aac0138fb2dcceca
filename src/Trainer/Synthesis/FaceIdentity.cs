using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Detection;
using HeadTracking.Trainer.Teachers;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>A face texture in the canonical mesh's UV space, unwrapped from one real photo.</summary>
internal sealed class FaceIdentity
{
    public const int AtlasSize = 256;

    public FaceIdentity(string id, byte[] atlas, (float B, float G, float R) skin)
    {
        Id = id;
        Atlas = atlas;
        Skin = skin;
    }

    /// <summary>"photo.jpg#k": the photo and the face's rank in it.</summary>
    public string Id { get; }

    /// <summary>BGR atlas, <see cref="AtlasSize"/> squared.</summary>
    public byte[] Atlas { get; }

    /// <summary>Mean cheek colour, for the rest of the head.</summary>
    public (float B, float G, float R) Skin { get; }

    /// <summary>Mesh vertices that stand for BlazeFace's six keypoints (right eye, left eye, nose
    /// tip, mouth, right ear, left ear); eyes and mouth are the mean of two vertices.</summary>
    public static readonly int[][] KeypointVertices = [[33, 133], [263, 362], [1], [13, 14], [234], [454]];

    /// <summary>The six keypoints in the head frame.</summary>
    public static double[][] KeypointPositions(Mesh face) =>
        [.. KeypointVertices.Select(vs => Enumerable.Range(0, 3).Select(axis => vs.Average(v => (double)face.Positions[(v * 3) + axis])).ToArray())];

    /// <summary>
    /// Finds faces in photos with the BlazeFace detector and unwraps each: every triangle of the
    /// canonical mesh has its pixels copied from where the triangle lies in the photo to its place
    /// in UV space (the 300W-LP approach). Where the triangle lies: with a dense teacher, at its
    /// three vertices' landmarks (MediaPipe's face mesh has the canonical mesh's 468 vertices, so
    /// the eyes, nose and mouth of the texture land on the mesh's own; a face the teacher cannot
    /// label is left out); without, the generic mesh posed by solvePnP on BlazeFace's six keypoints
    /// and projected (which puts them 9-29% of the face's width from the teacher's landmarks on
    /// the sample photos' faces, 14% on average; the width of BlazeFace's box).
    /// </summary>
    /// <param name="skipped">Faces left out because the teacher could not label them.</param>
    public static List<FaceIdentity> FromPhotos(IEnumerable<string> photos, Mesh face, BlazeFaceDetector detector, FaceMeshTeacher? teacher, out int skipped, int minFacePixels = 80)
    {
        if (teacher != null && face.VertexCount != FaceMeshTeacher.LandmarkCount)
        {
            throw new ArgumentException($"the dense unwrap puts each mesh vertex at the teacher's landmark of the same number: it needs a mesh of {FaceMeshTeacher.LandmarkCount} vertices, this one has {face.VertexCount}", nameof(face));
        }

        skipped = 0;
        var result = new List<FaceIdentity>();
        var found = new FaceDetections();
        double[][] model = KeypointPositions(face);
        foreach (string photo in photos)
        {
            using Mat image = Cv2.ImRead(photo, ImreadModes.Color);
            if (image.Empty())
            {
                throw new InvalidDataException($"{photo}: not an image OpenCV can decode");
            }

            detector.Detect(image, found);
            for (int f = 0; f < found.Count; f++)
            {
                if (found.Boxes[(f * 4) + 2] - found.Boxes[f * 4] < minFacePixels || found.Scores[f] < 0.6f)
                {
                    continue;
                }

                Point2f[] src;
                if (teacher != null)
                {
                    FaceMeshResult? m = teacher.Label(image, [found.Boxes[f * 4], found.Boxes[(f * 4) + 1], found.Boxes[(f * 4) + 2], found.Boxes[(f * 4) + 3]]);
                    if (m == null)
                    {
                        skipped++;
                        continue;
                    }

                    src = [.. Enumerable.Range(0, face.VertexCount).Select(i => new Point2f(m.Landmarks[i * 3], m.Landmarks[(i * 3) + 1]))];
                }
                else
                {
                    var keypoints = Enumerable.Range(0, 6).Select(k => new Point2d(found.Keypoints[(f * 12) + (k * 2)], found.Keypoints[(f * 12) + (k * 2) + 1])).ToArray();
                    src = Fit(image.Width, image.Height, face, model, keypoints);
                }

                result.Add(Unwrap($"{Path.GetFileName(photo)}#{f}", image, face, src));
            }
        }

        return result;
    }

    /// <summary>
    /// Poses the canonical mesh on six keypoints found in a photo (solvePnP, a camera with the
    /// focal length of the photo's longer side) and returns every vertex projected into the photo.
    /// </summary>
    internal static Point2f[] Fit(int width, int height, Mesh face, double[][] model, Point2d[] keypoints)
    {
        double f = Math.Max(width, height);
        using var camera = Mat.FromPixelData(3, 3, MatType.CV_64FC1, new double[] { f, 0, width / 2.0, 0, f, height / 2.0, 0, 0, 1 });
        using var distortion = new Mat(1, 5, MatType.CV_64FC1, Scalar.All(0));
        var objectPoints = model.Select(p => new Point3d(p[0], p[1], p[2])).ToArray();
        using var objectMat = Mat.FromArray(objectPoints);
        using var imageMat = Mat.FromArray(keypoints);
        using var rvec = new Mat();
        using var tvec = new Mat();
        Cv2.SolvePnP(objectMat, imageMat, camera, distortion, rvec, tvec, false, SolvePnPMethod.Iterative);

        var vertices = Enumerable.Range(0, face.VertexCount)
            .Select(i => new Point3d(face.Positions[i * 3], face.Positions[(i * 3) + 1], face.Positions[(i * 3) + 2])).ToArray();
        using var vertexMat = Mat.FromArray(vertices);
        using var projected = new Mat();
        Cv2.ProjectPoints(vertexMat, rvec, tvec, camera, distortion, projected);
        var src = new Point2f[face.VertexCount];
        for (int i = 0; i < src.Length; i++)
        {
            Point2d q = projected.At<Point2d>(i);
            src[i] = new Point2f((float)q.X, (float)q.Y);
        }

        return src;
    }

    /// <summary>The face texture from <paramref name="src"/>: where each mesh vertex lies in the photo.</summary>
    private static FaceIdentity Unwrap(string id, Mat image, Mesh face, Point2f[] src)
    {
        byte[] atlas = new byte[AtlasSize * AtlasSize * 3];
        int w = image.Width, h = image.Height;
        int stride = (int)image.Step();
        byte[] pixels = new byte[stride * h];
        System.Runtime.InteropServices.Marshal.Copy(image.Data, pixels, 0, pixels.Length);
        int[] t = face.Triangles;
        for (int i = 0; i < t.Length; i += 3)
        {
            WarpTriangle(face.Uvs, src, t[i], t[i + 1], t[i + 2], pixels, stride, w, h, atlas);
        }

        return new FaceIdentity(id, atlas, CheekColour(atlas));
    }

    /// <summary>Fills the atlas pixels of one triangle by sampling the photo where that triangle lies.</summary>
    private static void WarpTriangle(float[] uv, Point2f[] src, int a, int b, int c, byte[] photo, int stride, int w, int h, byte[] atlas)
    {
        double ax = uv[a * 2] * AtlasSize, ay = uv[(a * 2) + 1] * AtlasSize;
        double bx = uv[b * 2] * AtlasSize, by = uv[(b * 2) + 1] * AtlasSize;
        double cx = uv[c * 2] * AtlasSize, cy = uv[(c * 2) + 1] * AtlasSize;
        double area = ((bx - ax) * (cy - ay)) - ((by - ay) * (cx - ax));
        if (Math.Abs(area) < 1e-9)
        {
            return;
        }

        int x0 = Math.Max(0, (int)Math.Floor(Math.Min(ax, Math.Min(bx, cx))) - 1), x1 = Math.Min(AtlasSize - 1, (int)Math.Ceiling(Math.Max(ax, Math.Max(bx, cx))) + 1);
        int y0 = Math.Max(0, (int)Math.Floor(Math.Min(ay, Math.Min(by, cy))) - 1), y1 = Math.Min(AtlasSize - 1, (int)Math.Ceiling(Math.Max(ay, Math.Max(by, cy))) + 1);
        for (int y = y0; y <= y1; y++)
        {
            for (int x = x0; x <= x1; x++)
            {
                double px = x + 0.5, py = y + 0.5;
                double w0 = (((bx - px) * (cy - py)) - ((by - py) * (cx - px))) / area;
                double w1 = (((cx - px) * (ay - py)) - ((cy - py) * (ax - px))) / area;
                double w2 = 1 - w0 - w1;
                const double slack = -0.02; // a hair of overlap so seams do not show
                if (w0 < slack || w1 < slack || w2 < slack)
                {
                    continue;
                }

                double sx = (w0 * src[a].X) + (w1 * src[b].X) + (w2 * src[c].X);
                double sy = (w0 * src[a].Y) + (w1 * src[b].Y) + (w2 * src[c].Y);
                Bilinear(photo, stride, w, h, sx, sy, atlas, ((y * AtlasSize) + x) * 3);
            }
        }
    }

    internal static void Bilinear(byte[] image, int stride, int w, int h, double x, double y, byte[] dst, int di)
    {
        x = Math.Clamp(x - 0.5, 0, w - 1.001);
        y = Math.Clamp(y - 0.5, 0, h - 1.001);
        int ix = (int)x, iy = (int)y;
        double fx = x - ix, fy = y - iy;
        int p00 = (iy * stride) + (ix * 3), p01 = p00 + 3, p10 = p00 + stride, p11 = p10 + 3;
        for (int ch = 0; ch < 3; ch++)
        {
            double top = (image[p00 + ch] * (1 - fx)) + (image[p01 + ch] * fx);
            double bottom = (image[p10 + ch] * (1 - fx)) + (image[p11 + ch] * fx);
            dst[di + ch] = (byte)((top * (1 - fy)) + (bottom * fy) + 0.5);
        }
    }

    /// <summary>Mean colour of both cheeks in the atlas (UV around (0.3, 0.6) and (0.7, 0.6)).</summary>
    private static (float B, float G, float R) CheekColour(byte[] atlas)
    {
        double b = 0, g = 0, r = 0;
        int n = 0;
        foreach (double cu in new[] { 0.3, 0.7 })
        {
            for (int y = (int)(0.55 * AtlasSize); y < (int)(0.65 * AtlasSize); y++)
            {
                for (int x = (int)((cu - 0.05) * AtlasSize); x < (int)((cu + 0.05) * AtlasSize); x++)
                {
                    int i = ((y * AtlasSize) + x) * 3;
                    b += atlas[i];
                    g += atlas[i + 1];
                    r += atlas[i + 2];
                    n++;
                }
            }
        }

        return ((float)(b / n), (float)(g / n), (float)(r / n));
    }
}

/// <summary>Samples a <see cref="FaceIdentity"/> atlas bilinearly, tinted per channel.</summary>
internal sealed class AtlasMaterial(byte[] atlas, (float B, float G, float R) tint) : Material
{
    public override void Sample(float u, float v, out float b, out float g, out float r)
    {
        const int n = FaceIdentity.AtlasSize;
        double x = Math.Clamp((u * n) - 0.5, 0, n - 1.001), y = Math.Clamp((v * n) - 0.5, 0, n - 1.001);
        int ix = (int)x, iy = (int)y;
        float fx = (float)(x - ix), fy = (float)(y - iy);
        int p00 = ((iy * n) + ix) * 3, p01 = p00 + 3, p10 = p00 + (n * 3), p11 = p10 + 3;
        float Mix(int ch) =>
            (((atlas[p00 + ch] * (1 - fx)) + (atlas[p01 + ch] * fx)) * (1 - fy)) + (((atlas[p10 + ch] * (1 - fx)) + (atlas[p11 + ch] * fx)) * fy);
        b = Mix(0) * tint.B;
        g = Mix(1) * tint.G;
        r = Mix(2) * tint.R;
    }
}

/// <summary>The skull: hair above a hairline that is high at the forehead and low at the nape,
/// skin below; hair gets strands of light and dark along u.</summary>
internal sealed class HairMaterial(
    (float B, float G, float R) hair, (float B, float G, float R) skin, float frontLine, float backLine, int strandSeed) : Material
{
    public override void Sample(float u, float v, out float b, out float g, out float r)
    {
        // u = 0 and 1 at the face (front), 0.5 at the back of the head.
        float back = 1 - (2 * MathF.Abs(u - 0.5f)); // 0 front, 1 back
        float line = frontLine + ((backLine - frontLine) * back);
        if (v < line)
        {
            float strand = 0.85f + (0.3f * Hash((int)(u * 400) + strandSeed));
            b = hair.B * strand;
            g = hair.G * strand;
            r = hair.R * strand;
        }
        else
        {
            (b, g, r) = skin;
        }
    }

    private static float Hash(int x)
    {
        unchecked
        {
            uint h = (uint)x * 2654435761u;
            h ^= h >> 13;
            h *= 0x5bd1e995;
            return (h & 0xffff) / 65535f;
        }
    }
}

/// <summary>A flat colour.</summary>
internal sealed class FlatMaterial((float B, float G, float R) colour) : Material
{
    public override void Sample(float u, float v, out float b, out float g, out float r) => (b, g, r) = colour;
}
